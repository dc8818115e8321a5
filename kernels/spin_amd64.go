package kernels

// spinPause executes PAUSE: a polite step of a spin-wait (the two vCPUs of
// a small VM are often hardware threads of one core, and a busy poll would
// take issue slots from the thread doing the work).
//
//go:noescape
func spinPause()

// touchLines reads the n bytes at address p (n a positive multiple of
// 512; from the start of p's 64-byte line), bringing them into the cache.
// p is an address, not a pointer: a hint's (see readHint).
func touchLines(p uintptr, n int)

// prefetchLines asks for each 64-byte line of the n bytes at p (n
// positive) to be brought into the cache.
//
//go:noescape
func prefetchLines(p *byte, n int)

// prefetchWRuns asks for each 64-byte line of the count runs of n bytes at
// p, p+stride, ... (n positive) to be brought into the cache ready for
// writing. The addresses are formed in assembly: a run past the end of
// p's object (hints that concurrent callers mixed up) is never a Go
// pointer, and a prefetch does not fault.
//
//go:noescape
func prefetchWRuns(p *byte, n, stride, count int)
