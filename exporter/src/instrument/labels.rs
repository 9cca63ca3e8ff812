//! Closed sets of label values: each an enum whose values are spelled once, with an `ALL`
//! list, encoded without allocating. A closed set keeps cardinality bounded by
//! construction and lets the exporter start every series at zero.

/// Declares a closed set: `closed_set! { pub enum Outcome { Ok => "ok", Error => "error" } }`
/// gives `Outcome::ALL`, `as_str`, `parse`, `Display` and the label-value encoding.
macro_rules! closed_set {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The member spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::prometheus_client::encoding::EncodeLabelValue for $name {
            fn encode(
                &self,
                encoder: &mut ::prometheus_client::encoding::LabelValueEncoder,
            ) -> ::std::fmt::Result {
                ::std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}
pub(crate) use closed_set;

closed_set! {
    /// The outcome of a unit of work.
    pub enum Outcome {
        Ok => "ok",
        Error => "error",
    }
}

impl Outcome {
    pub fn of(ok: bool) -> Self {
        if ok {
            Outcome::Ok
        } else {
            Outcome::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_spelled_once_and_parse_back() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
        }
        assert_eq!(Outcome::parse("OK"), None);
        assert_eq!(Outcome::of(false).to_string(), "error");
    }
}
