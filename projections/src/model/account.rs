use chrono::{DateTime, Utc};
use domain::values::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account as `me` and the admin views show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Who created it (nil: the command-line operator; `None`: before this was recorded).
    pub created_by: Option<Uuid>,
    /// May reach client identity: approved by a second person, or needing no approval.
    pub approved: bool,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// A token, found by the hash of the bearer secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub token_id: Uuid,
    pub account_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}
