use crate::domain::{ObjectId, Role};

/// Whom a request acts for. Handlers that check ownership take one; the route's declared
/// access has already let it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `AUTH_MODE=open`: nobody is identified and everybody may do everything, as in the seed.
    Anyone,
    /// `AUTH_MODE=jwt` on a public route: no token was asked for.
    Anonymous,
    /// `AUTH_MODE=jwt`: the holder of a valid token.
    User { id: ObjectId, role: Role },
}

impl Caller {
    /// Admins (and anyone, in open mode) read and act on everything.
    pub fn is_admin(self) -> bool {
        match self {
            Self::Anyone => true,
            Self::Anonymous => false,
            Self::User { role, .. } => role == Role::Admin,
        }
    }

    /// The user the token names, if any.
    pub fn user_id(self) -> Option<ObjectId> {
        match self {
            Self::User { id, .. } => Some(id),
            Self::Anyone | Self::Anonymous => None,
        }
    }

    /// Whether this caller may read or act on what `owner` owns (their profile, locks and
    /// bookings), or act in `owner`'s name.
    pub fn may_act_for(self, owner: ObjectId) -> bool {
        self.is_admin() || self.user_id() == Some(owner)
    }

    /// [`Self::may_act_for`] for an id as the client sent it, which may not even be well-formed
    /// (nobody owns a malformed id, but an admin may still ask for it and get the 404).
    pub fn may_act_for_text(self, owner: &str) -> bool {
        self.is_admin() || ObjectId::parse(owner).is_some_and(|owner| self.may_act_for(owner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_act_for_themselves_admins_and_open_mode_for_everyone() {
        let me = ObjectId::generate();
        let other = ObjectId::generate();
        let user = Caller::User {
            id: me,
            role: Role::User,
        };
        let admin = Caller::User {
            id: other,
            role: Role::Admin,
        };
        assert!(user.may_act_for(me));
        assert!(!user.may_act_for(other));
        assert!(user.may_act_for_text(&me.to_string()));
        assert!(!user.may_act_for_text("not-an-id"));
        assert!(admin.may_act_for(me) && admin.may_act_for_text("not-an-id"));
        assert!(Caller::Anyone.may_act_for(me));
        assert!(!Caller::Anonymous.may_act_for(me));
    }
}
