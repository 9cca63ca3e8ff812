// The Go peer of `scripts/bench metrics`: client_golang exposing the same 10,000 counter
// series as exporter/examples/metrics_10k.rs (2,500 accounts x 4 meters), on a registry
// of their own (no Go runtime series), at /metrics on the given loopback address.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: metrics-10k-go 127.0.0.1:PORT")
	}
	meters := []string{"storage_byte_hours", "egress_bytes", "class_b_transactions", "class_c_transactions"}
	reg := prometheus.NewRegistry()
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "billing_account_events_total",
		Help: "events per account and meter",
	}, []string{"account", "meter"})
	reg.MustRegister(events)
	for i := 0; i < 10000; i++ {
		events.WithLabelValues(fmt.Sprintf("account-%d", i/len(meters)), meters[i%len(meters)]).Add(float64(i))
	}
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	log.Fatal(http.ListenAndServe(os.Args[1], nil))
}
