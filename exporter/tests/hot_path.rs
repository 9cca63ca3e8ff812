//! Recording a request allocates nothing once its label set exists: counted with a
//! global allocator wrapper around the system allocator, per thread, since the other
//! tests of this binary allocate on their own threads meanwhile.

use exporter::billing::catalogue::Metrics;
use exporter::instrument::trace::TraceLabel;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread (const-initialised: reading it never allocates).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: a thread being torn down no longer has its counter.
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
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
    let before = allocations();
    for i in 0..1000 {
        metrics
            .http
            .observe(r, 200, if i % 2 == 0 { 0.01 } else { 0.2 }, Some(trace));
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "allocations while recording 1000 requests"
    );
    // And the counter really moved.
    assert!(metrics.encode().contains("code=\"200\"} 1002"));
}
