use serde::{Deserialize, Serialize};

/// An account as `me` and the admin views show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub organization_id: Option<String>,
    pub lawyer_id: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

/// A token, found by the hash of the bearer secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub token_id: String,
    pub account_id: String,
    pub issued_at: String,
    pub expires_at: Option<String>,
    pub revoked: bool,
}
