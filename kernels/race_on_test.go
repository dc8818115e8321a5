//go:build race

package kernels_test

// raceEnabled trims the heaviest pure-compute tests under the race detector,
// which slows them tenfold without exercising any more concurrency.
const raceEnabled = true
