//! Roles and permissions as a framework. A product declares its
//! permissions (an enum implementing [`Permission`], usually a
//! `platform_kernel::text_enum!`) and a [`RoleTable`] of what each of its
//! roles grants; an account's effective permissions are a
//! [`PermissionSet`] (stored as a JSON object of `name: bool`, so a role's
//! defaults can be customised per account). A handler checks with one
//! call, [`require`], before it reads anything; the product's web layer
//! turns [`Denied`] into its 403.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;

/// One permission of a product: a closed list with stable names.
pub trait Permission: Copy + Eq + std::fmt::Debug + 'static {
    /// Every permission, in a fixed order (at most 64).
    const ALL: &'static [Self];
    /// The stable name (stored, and shown in the back office).
    fn name(self) -> &'static str;

    /// The position in [`Permission::ALL`].
    fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).expect("every permission is listed in ALL")
    }
}

/// Anything that holds permissions: an account's set, a role, a session.
pub trait Holder<P: Permission> {
    fn holds(&self, p: P) -> bool;
}

/// The refusal of [`require`]: which permission was missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the {0} permission is required")]
pub struct Denied(pub &'static str);

/// The one check a handler makes before reading anything.
pub fn require<P: Permission>(holder: &impl Holder<P>, p: P) -> Result<(), Denied> {
    if holder.holds(p) {
        Ok(())
    } else {
        Err(Denied(p.name()))
    }
}

/// A set of one product's permissions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PermissionSet<P> {
    bits: u64,
    _p: PhantomData<P>,
}

impl<P: Permission> PermissionSet<P> {
    pub fn none() -> Self {
        assert!(P::ALL.len() <= 64, "at most 64 permissions per product");
        PermissionSet { bits: 0, _p: PhantomData }
    }

    pub fn all() -> Self {
        Self::of(P::ALL)
    }

    pub fn of(ps: &[P]) -> Self {
        let mut s = Self::none();
        for p in ps {
            s.grant(*p);
        }
        s
    }

    pub fn grant(&mut self, p: P) {
        self.bits |= 1 << p.index();
    }

    pub fn revoke(&mut self, p: P) {
        self.bits &= !(1 << p.index());
    }

    pub fn contains(&self, p: P) -> bool {
        self.bits & (1 << p.index()) != 0
    }

    /// The permissions held, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = P> + '_ {
        P::ALL.iter().copied().filter(|p| self.contains(*p))
    }
}

impl<P: Permission> Holder<P> for PermissionSet<P> {
    fn holds(&self, p: P) -> bool {
        self.contains(p)
    }
}

impl<P: Permission> std::fmt::Debug for PermissionSet<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(|p| p.name())).finish()
    }
}

/// Stored as `{"name": true, …}` with every permission named, so a reader
/// of the database sees what is off as well as what is on.
impl<P: Permission> Serialize for PermissionSet<P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(P::ALL.len()))?;
        for p in P::ALL {
            m.serialize_entry(p.name(), &self.contains(*p))?;
        }
        m.end()
    }
}

/// Read from `{"name": bool, …}`; names not given are off and unknown
/// names are ignored (a permission retired from the product).
impl<'de, P: Permission> Deserialize<'de> for PermissionSet<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<P>(PhantomData<P>);
        impl<'de, P: Permission> Visitor<'de> for V<P> {
            type Value = PermissionSet<P>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of permission names to booleans")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut set = PermissionSet::none();
                while let Some((name, on)) = map.next_entry::<String, bool>()? {
                    if let Some(p) = P::ALL.iter().find(|p| p.name() == name) {
                        if on {
                            set.grant(*p);
                        }
                    }
                }
                Ok(set)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A product's roles and what each grants by default.
pub struct RoleTable<R: 'static, P: 'static> {
    pub grants: &'static [(R, &'static [P])],
}

impl<R: Copy + Eq + std::fmt::Debug, P: Permission> RoleTable<R, P> {
    /// The default set of `role`. Panics on a role missing from the table,
    /// which [`RoleTable::check`] catches in a test.
    pub fn defaults(&self, role: R) -> PermissionSet<P> {
        let (_, ps) = self.grants.iter().find(|(r, _)| *r == role).unwrap_or_else(|| panic!("{role:?} is not in the role table"));
        PermissionSet::of(ps)
    }

    /// Every role of `all` appears exactly once: call it from a test.
    pub fn check(&self, all: &[R]) -> Result<(), String> {
        for r in all {
            let n = self.grants.iter().filter(|(g, _)| g == r).count();
            if n != 1 {
                return Err(format!("{r:?} appears {n} times in the role table"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    platform_kernel::text_enum! {
        enum Perm { Moderate => "moderate", Refund => "refund", Settings => "settings" }
    }
    impl Permission for Perm {
        const ALL: &'static [Perm] = Perm::ALL;
        fn name(self) -> &'static str {
            self.as_str()
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Role {
        Owner,
        Helper,
    }
    const ROLES: RoleTable<Role, Perm> =
        RoleTable { grants: &[(Role::Owner, &[Perm::Moderate, Perm::Refund, Perm::Settings]), (Role::Helper, &[Perm::Moderate])] };

    #[test]
    fn one_call_checks_and_names_what_is_missing() {
        let helper = ROLES.defaults(Role::Helper);
        assert_eq!(require(&helper, Perm::Moderate), Ok(()));
        assert_eq!(require(&helper, Perm::Refund), Err(Denied("refund")));
        assert_eq!(Denied("refund").to_string(), "the refund permission is required");
        assert!(ROLES.defaults(Role::Owner).iter().eq(Perm::ALL.iter().copied()));
        assert_eq!(ROLES.check(&[Role::Owner, Role::Helper]), Ok(()));
    }

    #[test]
    fn sets_round_trip_through_their_stored_form() {
        let mut s = PermissionSet::<Perm>::of(&[Perm::Refund]);
        s.grant(Perm::Settings);
        s.revoke(Perm::Refund);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"moderate":false,"refund":false,"settings":true}"#);
        let back: PermissionSet<Perm> = serde_json::from_str(r#"{"settings":true,"retired":true}"#).unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<PermissionSet<Perm>>("[1]").is_err());
        assert_eq!(format!("{:?}", PermissionSet::<Perm>::all()), r#"{"moderate", "refund", "settings"}"#);
    }
}
