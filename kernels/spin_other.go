//go:build !amd64

package kernels

// spinPause is a step of a spin-wait; a no-op where there is no PAUSE.
func spinPause() {}

// touchLines is a no-op elsewhere: hints are not read.
func touchLines(p uintptr, n int) {}

// prefetchWRuns is a no-op where there is no prefetch instruction.
func prefetchWRuns(p *byte, n, stride, count int) {}

// prefetchLines is a no-op where there is no prefetch instruction.
func prefetchLines(p *byte, n int) {}
