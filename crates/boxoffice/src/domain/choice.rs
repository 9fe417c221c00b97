//! One of a fixed set of values, named in a request's text (a listing's `status` filter): the
//! value, or the 400 that lists every value allowed.

use super::Rejection;

/// How a refusal lists the allowed values; each listing keeps the wording it has always had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// `<field> must be one of A, B, C`.
    OneOf,
    /// `<field> must be a, b or c`.
    Alternatives,
}

/// An optional value of `values`, from the text of parameter `field`: `None` when absent,
/// the value whose name (`name_of`) is exactly the text, or 400 (`Rejection::Invalid`) listing
/// every name in `values`' order as `allowed` says (`status must be one of FREE, HELD, …`).
///
/// `values` and `name_of` are a status enum's `ALL` and `as_str`.
pub fn optional_choice<T: Copy>(
    field: &str,
    text: Option<&str>,
    values: &[T],
    name_of: impl Fn(T) -> &'static str,
    allowed: Allowed,
) -> Result<Option<T>, Rejection> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Some(value) = values.iter().copied().find(|v| name_of(*v) == text) {
        return Ok(Some(value));
    }
    let names: Vec<&str> = values.iter().map(|v| name_of(*v)).collect();
    let listed = match (allowed, names.split_last()) {
        (Allowed::OneOf, _) => format!("one of {}", names.join(", ")),
        (Allowed::Alternatives, Some((last, leading))) if !leading.is_empty() => {
            format!("{} or {last}", leading.join(", "))
        }
        (Allowed::Alternatives, _) => names.join(", "),
    };
    Err(Rejection::invalid(format!("{field} must be {listed}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status_enum;

    status_enum!(Colour { Red => "RED", Green => "GREEN", Blue => "BLUE" });

    fn choose(text: Option<&str>, allowed: Allowed) -> Result<Option<Colour>, String> {
        optional_choice("colour", text, Colour::ALL, Colour::as_str, allowed)
            .map_err(|refusal| refusal.to_string())
    }

    #[test]
    fn absent_is_none_and_a_name_is_its_value() {
        assert_eq!(choose(None, Allowed::OneOf), Ok(None));
        assert_eq!(
            choose(Some("GREEN"), Allowed::OneOf),
            Ok(Some(Colour::Green))
        );
        assert_eq!(
            choose(Some("BLUE"), Allowed::Alternatives),
            Ok(Some(Colour::Blue))
        );
        // The same values as the enum's own `parse`.
        for name in ["RED", "GREEN", "BLUE", "red", ""] {
            assert_eq!(
                choose(Some(name), Allowed::OneOf).ok().flatten(),
                Colour::parse(name)
            );
        }
    }

    #[test]
    fn anything_else_is_refused_with_every_name() {
        for text in ["", "green", " RED", "RED,BLUE", "PURPLE"] {
            assert_eq!(
                choose(Some(text), Allowed::OneOf),
                Err("colour must be one of RED, GREEN, BLUE".to_owned()),
                "{text:?}"
            );
            assert_eq!(
                choose(Some(text), Allowed::Alternatives),
                Err("colour must be RED, GREEN or BLUE".to_owned()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn short_lists_read_naturally() {
        status_enum!(Pair { On => "on", Off => "off" });
        status_enum!(Single { Only => "only" });
        let pair = optional_choice(
            "switch",
            Some("x"),
            Pair::ALL,
            Pair::as_str,
            Allowed::Alternatives,
        );
        assert_eq!(pair.unwrap_err().to_string(), "switch must be on or off");
        let one = optional_choice(
            "it",
            Some("x"),
            Single::ALL,
            Single::as_str,
            Allowed::Alternatives,
        );
        assert_eq!(one.unwrap_err().to_string(), "it must be only");
        let one = optional_choice("it", Some("x"), Single::ALL, Single::as_str, Allowed::OneOf);
        assert_eq!(one.unwrap_err().to_string(), "it must be one of only");
        let on = optional_choice(
            "switch",
            Some("on"),
            Pair::ALL,
            Pair::as_str,
            Allowed::OneOf,
        );
        assert_eq!(on.unwrap(), Pair::parse("on"));
        let only = optional_choice(
            "it",
            Some("only"),
            Single::ALL,
            Single::as_str,
            Allowed::OneOf,
        );
        assert_eq!(only.unwrap(), Single::parse("only"));
    }
}
