//! Client identity at rest: per-case data keys wrapped by the master key ([`keys`]),
//! AES-256-GCM sealing ([`crypto`]) and the sealed identity payload ([`identity`]).

pub mod crypto;
pub mod identity;
pub mod keys;

pub use crypto::{Key, MasterKey};
pub use identity::IdentityPlain;
