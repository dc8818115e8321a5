package kernels

// SumBytes returns the sum of the bytes of b. It reads b with the widest
// loads the CPU offers and does almost no arithmetic, so timing it on a
// buffer much larger than the caches measures the memory read bandwidth of
// one thread (run it on several goroutines for the machine's).
func SumBytes(b []byte) uint64 {
	n := len(b) &^ 127
	var s uint64
	if n > 0 && sumBytesSIMD != nil {
		s = sumBytesSIMD(b[:n])
		b = b[n:]
	}
	for _, v := range b {
		s += uint64(v)
	}
	return s
}

// sumBytesSIMD sums len(b) bytes, a multiple of 128; nil when not available.
var sumBytesSIMD func(b []byte) uint64
