//! Recording a request allocates nothing once its label set exists: counted with a
//! global allocator wrapper around the system allocator.

use exporter::billing::catalogue::Metrics;
use exporter::instrument::trace::TraceLabel;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn recording_a_request_does_not_allocate() {
    let metrics = Metrics::new().initialise(&["stripe"]);
    let r = metrics.http.route(Some("/v1/usage"), "POST");
    let trace = TraceLabel::from_bytes([1; 16]);
    // First use of each label set and bucket may allocate (the family inserts it).
    metrics.http.observe(r, 200, 0.01, Some(trace));
    metrics.http.observe(r, 200, 0.2, Some(trace));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..1000 {
        metrics
            .http
            .observe(r, 200, if i % 2 == 0 { 0.01 } else { 0.2 }, Some(trace));
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(
        after - before,
        0,
        "allocations while recording 1000 requests"
    );
    // And the counter really moved.
    assert!(metrics.encode().contains("code=\"200\"} 1002"));
}
