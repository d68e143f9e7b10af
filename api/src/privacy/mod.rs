//! Client identity at rest: per-case data keys wrapped under the KEK of a key epoch
//! ([`keys`]), the KEKs sealed under the master key in the key-epoch file ([`epochs`]),
//! AES-256-GCM sealing ([`crypto`]) and the sealed identity payload ([`identity`]).

pub mod crypto;
pub mod epochs;
pub mod identity;
pub mod keys;

pub use crypto::{Key, MasterKey};
pub use identity::IdentityPlain;
