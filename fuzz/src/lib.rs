//! What the fuzz targets share: reading the context a turn runs in
//! (timezone, "now", flags) from the first bytes of a fuzzer input, so that
//! every target covers every timezone and a century of dates instead of
//! the machine's clock, and the rest of the input stays free-form text.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

/// Fixed-size values read from the front of an input. Missing bytes read
/// as zero, so every input, even an empty one, is a valid test case and
/// libFuzzer never wastes runs on rejected inputs.
pub struct Header<'a> {
    data: &'a [u8],
}

impl<'a> Header<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Header { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn i64(&mut self) -> i64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.byte();
        }
        i64::from_le_bytes(b)
    }

    /// Any IANA zone chrono-tz knows, DST-less and exotic ones included.
    pub fn tz(&mut self) -> Tz {
        TZ_VARIANTS[usize::from(self.u16()) % TZ_VARIANTS.len()]
    }

    /// A moment between 2000 and 2100, to the second. "Now" comes from the
    /// clock, so years outside that range are not inputs the system sees;
    /// the dates people and models *write* are fuzzed without such a limit.
    pub fn now(&mut self) -> DateTime<Utc> {
        const CENTURY_MINUTES: u32 = 100 * 365 * 24 * 60;
        let minutes = i64::from(self.u32() % CENTURY_MINUTES);
        let seconds = i64::from(self.byte() % 60);
        let base = NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("2000-01-01 is a date");
        (base + Duration::minutes(minutes) + Duration::seconds(seconds)).and_utc()
    }

    /// Any date-time chrono can represent, for arithmetic that must not
    /// panic whatever it is given. A mode byte picks where: within two
    /// centuries of 1970 (small values are Unix seconds, so seeds can name
    /// ordinary dates), the last or the first three days chrono can
    /// represent (where a model's "year 262142" lands), or anywhere;
    /// uniform values alone would almost never reach the edges.
    pub fn any_naive(&mut self) -> NaiveDateTime {
        let min = NaiveDateTime::MIN.and_utc().timestamp();
        let max = NaiveDateTime::MAX.and_utc().timestamp();
        let mode = self.byte();
        let raw = self.i64();
        let secs = match mode % 4 {
            0 => raw % (200 * 366 * 86_400),
            1 => max - raw.rem_euclid(3 * 86_400),
            2 => min + raw.rem_euclid(3 * 86_400),
            _ => min + raw.rem_euclid(max - min + 1),
        };
        DateTime::from_timestamp(secs, 0)
            .map(|t| t.naive_utc())
            .unwrap_or(NaiveDateTime::MAX)
    }

    /// What is left after the header.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}
