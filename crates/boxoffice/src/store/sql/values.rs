//! Typed values at the database boundary: ids, instants and statuses bind and decode as
//! themselves, so that no query converts them by hand. Ids are stored as 24-hex text,
//! instants as epoch milliseconds (BIGINT), statuses and roles in their upper/lower-case
//! spelling: what both databases hold natively through sqlx's `Any` driver.
//!
//! The impls live here rather than beside the types because `domain` stays free of sqlx.

use sqlx::any::AnyTypeInfo;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

use crate::domain::{BookingStatus, LockStatus, ObjectId, Role, Timestamp};

/// A type stored as text: `$show` writes it, `$parse` reads it back (`None`: a corrupt row).
macro_rules! stored_as_text {
    ($type:ty, $show:expr, $parse:expr) => {
        impl Type<Any> for $type {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }
            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }

        impl Encode<'_, Any> for $type {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                let text: String = $show(self);
                <String as Encode<Any>>::encode(text, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $type {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Any>>::decode(value)?;
                $parse(text).ok_or_else(|| {
                    format!("corrupt row: {text:?} is not a {}", stringify!($type)).into()
                })
            }
        }
    };
}

stored_as_text!(ObjectId, ObjectId::to_string, ObjectId::parse);
stored_as_text!(
    LockStatus,
    |s: &LockStatus| s.as_str().to_owned(),
    LockStatus::parse
);
stored_as_text!(
    BookingStatus,
    |s: &BookingStatus| s.as_str().to_owned(),
    BookingStatus::parse
);
stored_as_text!(Role, |r: &Role| r.as_str().to_owned(), Role::parse);

impl Type<Any> for Timestamp {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl Encode<'_, Any> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Any>>::encode(self.millis(), buf)
    }
}

/// An instant column must hold one the API can show (1970 to 9999 in UTC,
/// [`Timestamp::in_range`]); anything else is a corrupt value of its row, so that a row written
/// behind the API's back fails alone.
impl<'r> Decode<'r, Any> for Timestamp {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let millis = <i64 as Decode<Any>>::decode(value)?;
        Timestamp::in_range(millis)
            .ok_or_else(|| format!("corrupt row: {millis} is not a showable instant").into())
    }
}
