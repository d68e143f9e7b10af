//! Who is calling, and what they may do: the authenticated [`Principal`], bearer-token
//! secrets ([`tokens`]) and the one policy table ([`policy`]). Pure: no I/O.

pub mod policy;
pub mod principal;
pub mod tokens;

pub use policy::{CaseScope, Op};
pub use principal::Principal;
