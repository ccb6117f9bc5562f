//! Who may do what in Rooms' back office: the staff permissions and what
//! each platform role grants (platform-roles' framework, as Fantooo's
//! back office uses it). Every back-office handler checks one permission
//! first, with `platform_roles::require`.

use crate::account::PlatformRole;
use platform_roles::{PermissionSet, RoleTable};

platform_kernel::text_enum! {
    /// Back-office permissions.
    pub enum StaffPermission {
        /// Read users, their balances and history.
        ViewUsers => "view_users",
        /// Suspend, ban and reinstate users.
        ManageUsers => "manage_users",
        /// Credit or debit a user's coins or diamonds through the ledger.
        AdjustBalances => "adjust_balances",
        /// Read every ledger movement.
        ViewTransactions => "view_transactions",
        /// Create, edit and retire gifts.
        ManageGifts => "manage_gifts",
        /// Rooms, their statistics, live metrics, health and alerts.
        ViewOperations => "view_operations",
        /// Read the audit log.
        ViewAudit => "view_audit",
        /// Switch the diamond and salary exchanges off and on.
        ManageExchanges => "manage_exchanges",
    }
}

impl platform_roles::Permission for StaffPermission {
    const ALL: &'static [StaffPermission] = StaffPermission::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

use StaffPermission as P;

/// What each platform role grants. Super admins hold everything; admins
/// run the service but the audit log is the super admins'; managers read
/// and suspend; resellers and users have no back office.
pub static ROLES: RoleTable<PlatformRole, StaffPermission> = RoleTable {
    grants: &[
        (PlatformRole::SuperAdmin, StaffPermission::ALL),
        (
            PlatformRole::Admin,
            &[P::ViewUsers, P::ManageUsers, P::AdjustBalances, P::ViewTransactions, P::ManageGifts, P::ViewOperations, P::ManageExchanges],
        ),
        (PlatformRole::Manager, &[P::ViewUsers, P::ManageUsers, P::ViewTransactions, P::ViewOperations]),
        (PlatformRole::Reseller, &[]),
        (PlatformRole::User, &[]),
    ],
};

/// The permissions of an account with `role`.
pub fn permissions(role: PlatformRole) -> PermissionSet<StaffPermission> {
    ROLES.defaults(role)
}

/// Whether `role` opens the back office at all.
pub fn is_back_office(role: PlatformRole) -> bool {
    permissions(role).iter().next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform_roles::require;

    #[test]
    fn every_role_is_in_the_table_once() {
        ROLES.check(PlatformRole::ALL).unwrap();
    }

    #[test]
    fn what_each_role_may_do() {
        use PlatformRole::*;
        let cases: &[(PlatformRole, StaffPermission, bool)] = &[
            (SuperAdmin, P::ViewAudit, true),
            (SuperAdmin, P::AdjustBalances, true),
            (Admin, P::AdjustBalances, true),
            (Admin, P::ManageGifts, true),
            (Admin, P::ViewAudit, false),
            (Manager, P::ViewUsers, true),
            (Manager, P::ManageUsers, true),
            (Manager, P::AdjustBalances, false),
            (Manager, P::ManageGifts, false),
            (Manager, P::ManageExchanges, false),
            (Admin, P::ManageExchanges, true),
            (Reseller, P::ViewUsers, false),
            (User, P::ViewOperations, false),
        ];
        for (role, p, allowed) in cases {
            assert_eq!(require(&permissions(*role), *p).is_ok(), *allowed, "{role:?} {p:?}");
        }
        assert!(is_back_office(Manager) && !is_back_office(Reseller) && !is_back_office(User));
    }
}
