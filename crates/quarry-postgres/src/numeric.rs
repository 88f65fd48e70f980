//! PostgreSQL's binary `numeric` format, written from decimal digits and
//! read into `rust_decimal::Decimal`.
//!
//! The format: `ndigits: i16`, `weight: i16`, `sign: u16`, `dscale: u16`,
//! then `ndigits` base-10000 digits (`i16`), most significant first; the
//! value is `sum(digit[i] * 10000^(weight - i))`. `sign` is `0x0000`
//! (positive), `0x4000` (negative), `0xC000` (NaN), `0xD000` (+Infinity)
//! or `0xF000` (-Infinity).
//!
//! Written here rather than taken from `rust_decimal`'s postgres support
//! because that one decodes `'NaN'::numeric` as zero (rust-decimal#655).

use bytes::{BufMut, BytesMut};

const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const POS_INF: u16 = 0xD000;
const NEG_INF: u16 = 0xF000;
/// The largest display scale PostgreSQL keeps.
const MAX_DSCALE: i64 = 0x3FFF;

/// A special numeric value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Special {
    Nan,
    PosInfinity,
    NegInfinity,
}

/// Write a special value (`NaN`, `±Infinity`; the latter need PostgreSQL 14).
pub(crate) fn write_special(special: Special, out: &mut BytesMut) {
    out.put_i16(0);
    out.put_i16(0);
    out.put_u16(match special {
        Special::Nan => NAN,
        Special::PosInfinity => POS_INF,
        Special::NegInfinity => NEG_INF,
    });
    out.put_u16(0);
}

/// Write the number `±0.d1d2d3... × 10^point` with `dscale` digits shown
/// after the decimal point. `digits` holds ASCII digits only.
pub(crate) fn write_digits(
    negative: bool,
    digits: &[u8],
    point: i64,
    dscale: i64,
    out: &mut BytesMut,
) -> Result<(), String> {
    let dscale = u16::try_from(dscale.clamp(0, MAX_DSCALE)).map_err(|e| e.to_string())?;
    // Strip leading zeros (each moves the point left) and trailing zeros.
    let first = digits.iter().position(|d| *d != b'0');
    let Some(first) = first else {
        out.put_i16(0);
        out.put_i16(0);
        out.put_u16(POSITIVE);
        out.put_u16(dscale);
        return Ok(());
    };
    let last = digits.iter().rposition(|d| *d != b'0').unwrap_or(first);
    let digits = &digits[first..=last];
    let point = point - i64::try_from(first).map_err(|e| e.to_string())?;
    let len = i64::try_from(digits.len()).map_err(|e| e.to_string())?;
    // Digit k has decimal exponent point - 1 - k; base-10000 group g holds
    // exponents 4g..4g+3.
    let group_max = (point - 1).div_euclid(4);
    let group_min = (point - len).div_euclid(4);
    let ndigits = i16::try_from(group_max - group_min + 1).map_err(|_| "the number has too many digits".to_owned())?;
    let weight = i16::try_from(group_max).map_err(|_| "the number is out of numeric's range".to_owned())?;
    out.reserve(8 + 2 * usize::try_from(ndigits).unwrap_or(0));
    out.put_i16(ndigits);
    out.put_i16(weight);
    out.put_u16(if negative { NEGATIVE } else { POSITIVE });
    out.put_u16(dscale);
    let mut group = group_max;
    while group >= group_min {
        let mut value: i16 = 0;
        for p in (0..4).rev() {
            let exponent = 4 * group + p;
            let k = point - 1 - exponent;
            let d = if (0..len).contains(&k) { digits[usize::try_from(k).unwrap_or(0)] - b'0' } else { 0 };
            value = value * 10 + i16::from(d);
        }
        out.put_i16(value);
        group -= 1;
    }
    Ok(())
}

/// Write an integer.
pub(crate) fn write_integer(value: i128, out: &mut BytesMut) -> Result<(), String> {
    let mut buf = [0u8; 40];
    let digits = ascii_digits(value.unsigned_abs(), &mut buf);
    let point = i64::try_from(digits.len()).unwrap_or(0);
    write_digits(value < 0, digits, point, 0, out)
}

/// Write `mantissa × 10^-scale` (how `rust_decimal` stores a value).
#[cfg(any(feature = "rust_decimal", test))]
pub(crate) fn write_scaled(mantissa: i128, scale: u32, out: &mut BytesMut) -> Result<(), String> {
    let mut buf = [0u8; 40];
    let digits = ascii_digits(mantissa.unsigned_abs(), &mut buf);
    let point = i64::try_from(digits.len()).unwrap_or(0) - i64::from(scale);
    write_digits(mantissa < 0, digits, point, i64::from(scale), out)
}

/// Write a float as the shortest decimal that reads back as the same float.
pub(crate) fn write_float(value: f64, shortest: &str, out: &mut BytesMut) -> Result<(), String> {
    if value.is_nan() {
        write_special(Special::Nan, out);
        return Ok(());
    }
    if value.is_infinite() {
        write_special(if value > 0.0 { Special::PosInfinity } else { Special::NegInfinity }, out);
        return Ok(());
    }
    write_text(shortest, out)
}

/// Write a decimal number given as text: `[+-]digits[.digits][e[+-]digits]`,
/// or `NaN`, `Infinity`, `-Infinity` (case-insensitive).
pub(crate) fn write_text(text: &str, out: &mut BytesMut) -> Result<(), String> {
    let invalid = || format!("{text:?} is not a decimal number");
    let t = text.trim();
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if body.eq_ignore_ascii_case("nan") && !t.starts_with(['-', '+']) {
        write_special(Special::Nan, out);
        return Ok(());
    }
    if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
        write_special(if negative { Special::NegInfinity } else { Special::PosInfinity }, out);
        return Ok(());
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => {
            let exp: i64 = body[at + 1..].parse().map_err(|_| invalid())?;
            (&body[..at], exp)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let mut digits = Vec::with_capacity(int_part.len() + frac_part.len());
    digits.extend_from_slice(int_part.as_bytes());
    digits.extend_from_slice(frac_part.as_bytes());
    let int_len = i64::try_from(int_part.len()).map_err(|_| invalid())?;
    let frac_len = i64::try_from(frac_part.len()).map_err(|_| invalid())?;
    let point = int_len.checked_add(exponent).ok_or_else(invalid)?;
    let dscale = frac_len.saturating_sub(exponent).max(0);
    write_digits(negative, &digits, point, dscale, out)
}

/// The decimal digits of `n` (no sign), written at the end of `buf`.
fn ascii_digits(mut n: u128, buf: &mut [u8; 40]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Read a binary numeric into a `Decimal`. NaN, ±Infinity, more than 28
/// decimal places and mantissas over 96 bits are errors, never a wrong value.
#[cfg(feature = "rust_decimal")]
pub(crate) fn read_decimal(raw: &[u8]) -> Result<rust_decimal::Decimal, String> {
    let header = |at: usize| -> Result<[u8; 2], String> {
        raw.get(at..at + 2).and_then(|s| s.try_into().ok()).ok_or_else(|| "truncated numeric value".to_owned())
    };
    let ndigits = i16::from_be_bytes(header(0)?);
    let weight = i16::from_be_bytes(header(2)?);
    let sign = u16::from_be_bytes(header(4)?);
    let dscale = u16::from_be_bytes(header(6)?);
    match sign {
        POSITIVE | NEGATIVE => {}
        NAN => return Err("NaN has no Decimal equivalent".to_owned()),
        POS_INF => return Err("Infinity has no Decimal equivalent".to_owned()),
        NEG_INF => return Err("-Infinity has no Decimal equivalent".to_owned()),
        other => return Err(format!("invalid numeric sign {other:#06x}")),
    }
    let ndigits = usize::try_from(ndigits).map_err(|_| "negative numeric digit count".to_owned())?;
    if raw.len() != 8 + 2 * ndigits {
        return Err("numeric value of the wrong length".to_owned());
    }
    let overflow = || "the value is out of Decimal's range (96-bit mantissa, 28 decimal places)".to_owned();
    let mut mantissa: i128 = 0;
    for i in 0..ndigits {
        let d = i16::from_be_bytes(header(8 + 2 * i)?);
        if !(0..10000).contains(&d) {
            return Err(format!("invalid numeric digit {d}"));
        }
        mantissa = mantissa.checked_mul(10000).and_then(|m| m.checked_add(i128::from(d))).ok_or_else(overflow)?;
    }
    // value = mantissa × 10000^(weight - (ndigits - 1))
    let exp4 = i64::from(weight) - (i64::try_from(ndigits).map_err(|_| overflow())? - 1);
    let mut scale: i64 = 0;
    if ndigits == 0 {
        mantissa = 0;
    } else if exp4 >= 0 {
        for _ in 0..exp4 {
            mantissa = mantissa.checked_mul(10000).ok_or_else(overflow)?;
        }
    } else {
        scale = -exp4 * 4;
    }
    let dscale = i64::from(dscale);
    // Digits past the display scale are zeros; drop them.
    while scale > dscale && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    // Keep the display scale's trailing zeros (`1.10`), up to Decimal's 28.
    let max_scale = i64::from(rust_decimal::Decimal::MAX_SCALE);
    while scale < dscale.min(max_scale) {
        match mantissa.checked_mul(10) {
            Some(m) if m.unsigned_abs() < (1u128 << 96) => {
                mantissa = m;
                scale += 1;
            }
            _ => break,
        }
    }
    while scale > max_scale && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    if scale > max_scale {
        return Err(format!("{scale} decimal places are more than Decimal's 28"));
    }
    if sign == NEGATIVE {
        mantissa = -mantissa;
    }
    let scale = u32::try_from(scale).map_err(|_| overflow())?;
    rust_decimal::Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| overflow())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_text(t: &str) -> Vec<u8> {
        let mut out = BytesMut::new();
        write_text(t, &mut out).unwrap();
        out.to_vec()
    }

    fn words(raw: &[u8]) -> Vec<i32> {
        raw.chunks(2).map(|c| i32::from(i16::from_be_bytes([c[0], c[1]]))).collect()
    }

    #[test]
    fn digits_group_around_the_decimal_point() {
        // 12345.678 = 1 2345 . 6780 → ndigits 3, weight 1, dscale 3
        assert_eq!(words(&encode_text("12345.678")), vec![3, 1, 0, 3, 1, 2345, 6780]);
        // 0.0001 → ndigits 1, weight -1
        assert_eq!(words(&encode_text("0.0001")), vec![1, -1, 0, 4, 1]);
        // -10000 → one group 1 at weight 1
        assert_eq!(words(&encode_text("-10000")), vec![1, 1, 0x4000, 0, 1]);
        assert_eq!(words(&encode_text("0.00")), vec![0, 0, 0, 2]);
        assert_eq!(words(&encode_text("1.5e3")), vec![1, 0, 0, 0, 1500]);
        assert_eq!(words(&encode_text("15e-5")), vec![2, -1, 0, 5, 1, 5000]);
        assert!(write_text("1.2.3", &mut BytesMut::new()).is_err());
        assert!(write_text("", &mut BytesMut::new()).is_err());
        assert!(write_text("abc", &mut BytesMut::new()).is_err());
    }

    #[test]
    fn integers_and_scaled_values() {
        let mut out = BytesMut::new();
        write_integer(i128::from(i64::MIN), &mut out).unwrap();
        assert_eq!(words(&out)[..4], [5, 4, 0x4000, 0]);
        let mut out = BytesMut::new();
        write_scaled(-1234500, 4, &mut out).unwrap(); // -123.4500
        assert_eq!(words(&out), vec![2, 0, 0x4000, 4, 123, 4500]);
    }

    #[cfg(feature = "rust_decimal")]
    #[test]
    fn decimals_round_trip_and_specials_fail() {
        use rust_decimal::Decimal;
        for text in [
            "0",
            "1.10",
            "-123.4500",
            "12345678901234567890.123456789",
            "0.0000000000000000000000000001",
            "79228162514264337593543950335",
        ] {
            let d: Decimal = text.parse().unwrap();
            let mut out = BytesMut::new();
            write_scaled(d.mantissa(), d.scale(), &mut out).unwrap();
            let back = read_decimal(&out).unwrap();
            assert_eq!(back, d, "{text}");
            assert_eq!(back.to_string(), d.to_string(), "{text}");
        }
        for special in [Special::Nan, Special::PosInfinity, Special::NegInfinity] {
            let mut out = BytesMut::new();
            write_special(special, &mut out);
            assert!(read_decimal(&out).is_err());
        }
        // 1e40 does not fit in 96 bits.
        assert!(read_decimal(&encode_text("1e40")).is_err());
        // 30 places of which the last two are zeros fit.
        assert_eq!(
            read_decimal(&encode_text("0.100000000000000000000000000000")).unwrap().to_string(),
            "0.1000000000000000000000000000"
        );
        assert!(read_decimal(&encode_text("0.000000000000000000000000000001")).is_err());
    }
}
