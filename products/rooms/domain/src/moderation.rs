//! Who may do what in a room (requirements 3.2, 4.2–4.6): a pure decision
//! from the actor's room role, the action and the target. The store calls
//! [`authorize`] inside the transaction that applies the change, with roles
//! read in that transaction.
//!
//! - Actors act only on lower-ranked users, and on themselves where that
//!   makes sense (leave a seat, mute oneself); owners appoint and remove
//!   admins.
//! - An actor whose role cannot be resolved is refused.

use crate::room::{RoomRole, VisitorPermissions};

platform_kernel::text_enum! {
    /// Every room action that is checked and logged.
    pub enum Action {
        TakeSeat => "take_seat",
        LeaveSeat => "leave_seat",
        RequestSeat => "request_seat",
        AcceptRequest => "accept_request",
        Invite => "invite",
        MoveSeat => "move_seat",
        Lock => "lock_seat",
        Unlock => "unlock_seat",
        Mute => "mute",
        Unmute => "unmute",
        RemoveFromSeat => "remove_from_seat",
        Kick => "kick",
        Block => "block",
        Unblock => "unblock",
        AppointAdmin => "appoint_admin",
        RemoveAdmin => "remove_admin",
        EditSettings => "edit_settings",
        Close => "close",
    }
}

/// Whom an action is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A seat or the room itself, no person.
    Nobody,
    /// The actor.
    Myself,
    /// Someone else, holding this room role.
    Other(RoomRole),
}

/// Why an action was refused; each has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The actor's room role could not be resolved.
    RoleUnknown,
    /// Only the owner and room admins may do this.
    NotModerator,
    /// Only the owner may do this.
    OwnerOnly,
    /// The target ranks the same as or above the actor.
    TargetNotLower,
    /// This cannot be done to oneself.
    NotOnSelf,
    /// This needs a target (or must not have one).
    BadTarget,
    /// Visitors may not speak in this room.
    VisitorsMayNotSpeak,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::RoleUnknown => "role_unknown",
            Refusal::NotModerator => "not_moderator",
            Refusal::OwnerOnly => "owner_only",
            Refusal::TargetNotLower => "target_not_lower",
            Refusal::NotOnSelf => "not_on_self",
            Refusal::BadTarget => "bad_target",
            Refusal::VisitorsMayNotSpeak => "visitors_may_not_speak",
        }
    }
    pub fn message(self) -> &'static str {
        match self {
            Refusal::RoleUnknown => "Your role in this room could not be confirmed",
            Refusal::NotModerator => "Only the owner and room admins may do that",
            Refusal::OwnerOnly => "Only the room owner may do that",
            Refusal::TargetNotLower => "You can act only on people ranked below you",
            Refusal::NotOnSelf => "You cannot do that to yourself",
            Refusal::BadTarget => "That action needs someone else as its target",
            Refusal::VisitorsMayNotSpeak => "Visitors may not speak in this room",
        }
    }
}

/// Whether `actor` (`None`: unresolved) may do `action` to `target`.
pub fn authorize(actor: Option<RoomRole>, action: Action, target: Target) -> Result<(), Refusal> {
    use Action::*;
    let actor = actor.ok_or(Refusal::RoleUnknown)?;
    let moderator = || if actor.moderates() { Ok(()) } else { Err(Refusal::NotModerator) };
    let lower = |t: RoomRole| if actor.outranks(t) { Ok(()) } else { Err(Refusal::TargetNotLower) };
    match (action, target) {
        // Anyone present may sit, stand up or raise a hand for themselves
        // (whether they may sit at all is [`how_to_sit`]).
        (TakeSeat | LeaveSeat | RequestSeat, Target::Myself) => Ok(()),
        (TakeSeat | LeaveSeat | RequestSeat, _) => Err(Refusal::BadTarget),
        // Seats and settings: owner and admins.
        (Lock | Unlock | EditSettings, Target::Nobody) => moderator(),
        (Lock | Unlock | EditSettings, _) => Err(Refusal::BadTarget),
        (Close, Target::Nobody) => {
            if actor == RoomRole::Owner {
                Ok(())
            } else {
                Err(Refusal::OwnerOnly)
            }
        }
        (Close, _) => Err(Refusal::BadTarget),
        // Oneself: change seat, mute and unmute oneself.
        (MoveSeat | Mute | Unmute | RemoveFromSeat, Target::Myself) => Ok(()),
        (Kick | Block | Unblock | Invite | AcceptRequest | AppointAdmin | RemoveAdmin, Target::Myself) => Err(Refusal::NotOnSelf),
        // Others: a moderator acting on a lower rank.
        (AcceptRequest | Invite | MoveSeat | Mute | Unmute | RemoveFromSeat | Kick | Block | Unblock, Target::Other(t)) => {
            moderator()?;
            lower(t)
        }
        (AppointAdmin | RemoveAdmin, Target::Other(t)) => {
            if actor != RoomRole::Owner {
                return Err(Refusal::OwnerOnly);
            }
            lower(t)
        }
        (_, Target::Nobody) => Err(Refusal::BadTarget),
    }
}

/// How a user may get onto a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sit {
    /// Take a free seat now.
    Take,
    /// Apply; an owner or admin accepts (apply mode is on).
    Apply,
}

/// Whether `role` may sit in a room with these visitor permissions and
/// apply mode (3.2, 2.3): visitors only if visitors may speak; in apply
/// mode everyone below admin applies.
pub fn how_to_sit(role: RoomRole, visitors: VisitorPermissions, apply_mode: bool) -> Result<Sit, Refusal> {
    if role == RoomRole::Visitor && !visitors.speak {
        return Err(Refusal::VisitorsMayNotSpeak);
    }
    if apply_mode && !role.moderates() {
        return Ok(Sit::Apply);
    }
    Ok(Sit::Take)
}

/// Whether `role` may post text in the room's chat (3.3).
pub fn may_chat(role: RoomRole, visitors: VisitorPermissions) -> bool {
    role != RoomRole::Visitor || visitors.text
}

/// Whether a seated user may unmute themselves: not when the mute came
/// from a moderator.
pub fn may_unmute_self(muted_by_moderator: bool) -> bool {
    !muted_by_moderator
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use RoomRole::*;

    const ROLES: [RoomRole; 4] = [Owner, Admin, Member, Visitor];

    #[test]
    fn unresolved_roles_are_refused_everything() {
        for a in Action::ALL {
            for t in [Target::Nobody, Target::Myself, Target::Other(Visitor)] {
                assert_eq!(authorize(None, *a, t), Err(Refusal::RoleUnknown), "{a:?} {t:?}");
            }
        }
    }

    #[test]
    fn moderation_matrix_acts_only_downwards() {
        for action in [Mute, Unmute, RemoveFromSeat, Kick, Block, Unblock, Invite, MoveSeat, AcceptRequest] {
            for actor in ROLES {
                for target in ROLES {
                    let got = authorize(Some(actor), action, Target::Other(target));
                    let want = if !actor.moderates() {
                        Err(Refusal::NotModerator)
                    } else if actor.rank() > target.rank() {
                        Ok(())
                    } else {
                        Err(Refusal::TargetNotLower)
                    };
                    assert_eq!(got, want, "{actor:?} {action:?} {target:?}");
                }
            }
        }
    }

    #[test]
    fn table() {
        let cases: &[(RoomRole, Action, Target, Result<(), Refusal>)] = &[
            (Visitor, TakeSeat, Target::Myself, Ok(())),
            (Visitor, TakeSeat, Target::Other(Visitor), Err(Refusal::BadTarget)),
            (Member, Mute, Target::Myself, Ok(())),
            (Member, Unmute, Target::Myself, Ok(())),
            (Visitor, RemoveFromSeat, Target::Myself, Ok(())),
            (Owner, Kick, Target::Myself, Err(Refusal::NotOnSelf)),
            (Admin, Block, Target::Myself, Err(Refusal::NotOnSelf)),
            (Admin, Lock, Target::Nobody, Ok(())),
            (Member, Lock, Target::Nobody, Err(Refusal::NotModerator)),
            (Admin, EditSettings, Target::Nobody, Ok(())),
            (Visitor, EditSettings, Target::Nobody, Err(Refusal::NotModerator)),
            (Owner, Close, Target::Nobody, Ok(())),
            (Admin, Close, Target::Nobody, Err(Refusal::OwnerOnly)),
            (Owner, AppointAdmin, Target::Other(Member), Ok(())),
            (Owner, AppointAdmin, Target::Other(Visitor), Ok(())),
            (Owner, RemoveAdmin, Target::Other(Admin), Ok(())),
            (Admin, AppointAdmin, Target::Other(Member), Err(Refusal::OwnerOnly)),
            (Admin, RemoveAdmin, Target::Other(Admin), Err(Refusal::OwnerOnly)),
            (Owner, AppointAdmin, Target::Myself, Err(Refusal::NotOnSelf)),
            (Admin, Kick, Target::Other(Owner), Err(Refusal::TargetNotLower)),
            (Admin, Mute, Target::Other(Admin), Err(Refusal::TargetNotLower)),
            (Owner, Mute, Target::Other(Admin), Ok(())),
            (Owner, Kick, Target::Nobody, Err(Refusal::BadTarget)),
        ];
        for (actor, action, target, want) in cases {
            assert_eq!(authorize(Some(*actor), *action, *target), *want, "{actor:?} {action:?} {target:?}");
        }
    }

    #[test]
    fn sitting_and_chat() {
        let closed = VisitorPermissions { speak: false, text: false, pictures: false };
        let open = VisitorPermissions { speak: true, text: true, pictures: false };
        let cases = [
            (Visitor, closed, false, Err(Refusal::VisitorsMayNotSpeak)),
            (Visitor, open, false, Ok(Sit::Take)),
            (Visitor, open, true, Ok(Sit::Apply)),
            (Member, closed, false, Ok(Sit::Take)),
            (Member, closed, true, Ok(Sit::Apply)),
            (Admin, closed, true, Ok(Sit::Take)),
            (Owner, closed, true, Ok(Sit::Take)),
        ];
        for (role, perms, apply, want) in cases {
            assert_eq!(how_to_sit(role, perms, apply), want, "{role:?} {perms:?} {apply}");
        }
        assert!(!may_chat(Visitor, closed) && may_chat(Visitor, open) && may_chat(Member, closed));
        assert!(may_unmute_self(false) && !may_unmute_self(true));
        assert_eq!(Refusal::TargetNotLower.code(), "target_not_lower");
    }
}
