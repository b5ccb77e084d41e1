// Package benchprof gives the bench servers (bench/baseline,
// bench/baseline-ehr) the facade's FHIRFACADE_CPU_PROFILE: a CPU profile
// written from start until SIGINT or SIGTERM, so that a baseline and the
// facade can be profiled under the same load and compared with go tool
// pprof.
package benchprof

import (
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// Start profiles the process's CPU into path ("" does nothing) until the
// process gets SIGINT or SIGTERM, then writes the profile and exits.
func Start(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		_ = f.Close()
		os.Exit(0)
	}()
}
