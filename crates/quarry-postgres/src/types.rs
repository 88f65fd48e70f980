//! PostgreSQL type OIDs this driver converts, and type names for messages.

use std::borrow::Cow;

use postgres_types::{Kind, Type};

pub(crate) const BOOL: u32 = 16;
pub(crate) const BYTEA: u32 = 17;
pub(crate) const CHAR: u32 = 18;
pub(crate) const NAME: u32 = 19;
pub(crate) const INT8: u32 = 20;
pub(crate) const INT2: u32 = 21;
pub(crate) const INT4: u32 = 23;
pub(crate) const TEXT: u32 = 25;
pub(crate) const OID: u32 = 26;
pub(crate) const JSON: u32 = 114;
pub(crate) const XML: u32 = 142;
pub(crate) const FLOAT4: u32 = 700;
pub(crate) const FLOAT8: u32 = 701;
pub(crate) const UNKNOWN: u32 = 705;
pub(crate) const BPCHAR: u32 = 1042;
pub(crate) const VARCHAR: u32 = 1043;
pub(crate) const DATE: u32 = 1082;
pub(crate) const TIME: u32 = 1083;
pub(crate) const TIMESTAMP: u32 = 1114;
pub(crate) const TIMESTAMPTZ: u32 = 1184;
pub(crate) const INTERVAL: u32 = 1186;
pub(crate) const NUMERIC: u32 = 1700;
pub(crate) const UUID: u32 = 2950;
pub(crate) const JSONB: u32 = 3802;

/// Whether values of `ty` are UTF-8 text on the wire, in binary format as
/// in text format: the built-in string types, enums, and extension types
/// named `citext` (whose OID differs per database).
pub(crate) fn is_text_like(ty: &Type) -> bool {
    matches!(ty.oid(), TEXT | VARCHAR | BPCHAR | NAME | UNKNOWN | XML)
        || matches!(ty.kind(), Kind::Enum(_))
        || (matches!(ty.kind(), Kind::Simple) && ty.name() == "citext")
}

/// The type's name as PostgreSQL users write it: `int4`, `timestamptz`,
/// `int4[]` for arrays (the catalog calls them `_int4`).
pub(crate) fn display_name(ty: &Type) -> Cow<'static, str> {
    match ty.kind() {
        Kind::Array(element) => Cow::Owned(format!("{}[]", element.name())),
        _ => Cow::Owned(ty.name().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_match_postgres_types() {
        for (oid, ty) in [
            (BOOL, Type::BOOL),
            (BYTEA, Type::BYTEA),
            (CHAR, Type::CHAR),
            (NAME, Type::NAME),
            (INT8, Type::INT8),
            (INT2, Type::INT2),
            (INT4, Type::INT4),
            (TEXT, Type::TEXT),
            (OID, Type::OID),
            (JSON, Type::JSON),
            (XML, Type::XML),
            (FLOAT4, Type::FLOAT4),
            (FLOAT8, Type::FLOAT8),
            (UNKNOWN, Type::UNKNOWN),
            (BPCHAR, Type::BPCHAR),
            (VARCHAR, Type::VARCHAR),
            (DATE, Type::DATE),
            (TIME, Type::TIME),
            (TIMESTAMP, Type::TIMESTAMP),
            (TIMESTAMPTZ, Type::TIMESTAMPTZ),
            (INTERVAL, Type::INTERVAL),
            (NUMERIC, Type::NUMERIC),
            (UUID, Type::UUID),
            (JSONB, Type::JSONB),
        ] {
            assert_eq!(ty.oid(), oid, "{ty}");
        }
        assert_eq!(display_name(&Type::INT4_ARRAY), "int4[]");
        assert_eq!(display_name(&Type::TIMESTAMPTZ), "timestamptz");
    }
}
