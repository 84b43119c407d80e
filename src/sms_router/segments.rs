//! Placeholder until the segments module lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}
impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub encoding: Encoding,
    pub units: usize,
    pub segments: u32,
}
pub fn analyse(body: &str) -> SegmentInfo {
    SegmentInfo { encoding: Encoding::Gsm7, units: body.len(), segments: 1 }
}
pub fn fit_to_segments(body: &str, _max_segments: u32) -> String {
    body.to_string()
}
pub fn estimated_cost_micros(segments: u32, per_segment_micros: i64) -> i64 {
    i64::from(segments) * per_segment_micros
}
pub const DEFAULT_SEGMENT_COST_MICROS: i64 = 8300;
