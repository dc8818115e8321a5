package kernels

// spinPause executes PAUSE: a polite step of a spin-wait (the two vCPUs of
// a small VM are often hardware threads of one core, and a busy poll would
// take issue slots from the thread doing the work).
//
//go:noescape
func spinPause()

// prefetchLines asks for each 64-byte line of the n bytes at p (n a
// positive multiple of 512) to be brought into the cache.
//
//go:noescape
func prefetchLines(p *byte, n int)

// prefetchWLines asks for each 64-byte line of the n bytes at p (n a
// positive multiple of 64) to be brought into the cache ready for writing.
//
//go:noescape
func prefetchWLines(p *byte, n int)
