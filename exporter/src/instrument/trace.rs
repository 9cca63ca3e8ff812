//! Trace ids as exemplar labels, encoded as lowercase hex without allocating.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use std::fmt::Write;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct TraceId(pub [u8; 16]);

impl EncodeLabelValue for TraceId {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 32];
        for (i, b) in self.0.iter().enumerate() {
            buf[2 * i] = HEX[(b >> 4) as usize];
            buf[2 * i + 1] = HEX[(b & 0xf) as usize];
        }
        encoder.write_str(std::str::from_utf8(&buf).expect("hex is ASCII"))
    }
}

impl TraceId {
    /// Whether a trace-id-ratio sampler keeping `1 / denominator` of traces keeps this one
    /// (OpenTelemetry's `TraceIdRatioBased` compares the low 8 bytes): exemplars chosen
    /// this way point at traces a ratio-sampling tracer kept.
    pub fn in_ratio_sample(&self, denominator: u64) -> bool {
        let mut low = [0u8; 8];
        low.copy_from_slice(&self.0[8..]);
        u64::from_be_bytes(low) < u64::MAX / denominator.max(1)
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The exemplar label set: `{trace_id="..."}`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TraceLabel {
    pub trace_id: TraceId,
}

impl TraceLabel {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        TraceLabel {
            trace_id: TraceId(bytes),
        }
    }

    /// The trace id of the current tracing span's OpenTelemetry context, if valid.
    pub fn current() -> Option<Self> {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let cx = tracing::Span::current().context();
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid()
            .then(|| Self::from_bytes(sc.trace_id().to_bytes()))
    }
}
