//go:build !amd64

package kernels

var simdActive = false

func useSIMD() {}

// defaultPrefetch is the streaming loops' prefetch setting when
// FERRY_PREFETCH does not choose one: the portable loops take none.
func defaultPrefetch() int64 { return 0 }
