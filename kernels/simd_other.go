//go:build !amd64

package kernels

var simdActive = false

func useSIMD() {}
