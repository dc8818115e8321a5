package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"ferry/dtype"
)

// parallelMin is the number of weight values (rows*cols) above which MatVec
// and MatMul split rows across the worker pool.
const parallelMin = 1 << 16

// MatVec computes y[i] = Dot(row i of w, x) for i in [0, len(y)): w holds
// len(y) rows of len(x) values of type t, each row t.RowBytes(len(x)) bytes,
// one after another. Large products are split by rows across a pool of
// worker goroutines. It panics on misuse, like Dot.
func MatVec(y []float32, w []byte, t dtype.Type, x []float32) {
	k := lookup(t)
	rb := k.rowBytes(len(x))
	checkWeights("MatVec", t, w, len(y), rb)
	if len(y) == 0 {
		return
	}
	run(k, y, w, rb, x, len(x), 1)
}

// MatMul computes y[j*rows+i] = Dot(row i of w, x[j*cols:(j+1)*cols]) for j
// in [0, n) and i in [0, rows), where rows = len(y)/n and cols = len(x)/n: n
// activation vectors (a batch, as in prefill) against the same weights, which
// are decoded once per tile of columns rather than once per vector. It panics
// on misuse, like Dot.
func MatMul(y []float32, w []byte, t dtype.Type, x []float32, n int) {
	k := lookup(t)
	if n <= 0 || len(y)%n != 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("kernels: MatMul: n=%d does not divide len(y)=%d and len(x)=%d", n, len(y), len(x)))
	}
	rows, cols := len(y)/n, len(x)/n
	rb := k.rowBytes(cols)
	checkWeights("MatMul", t, w, rows, rb)
	if rows == 0 {
		return
	}
	run(k, y, w, rb, x, cols, n)
}

func checkWeights(op string, t dtype.Type, w []byte, rows, rb int) {
	if rb != 0 && len(w)/rb < rows {
		panic(fmt.Sprintf("kernels: %s %v: %d rows of %d bytes need %d bytes, have %d", op, t, rows, rb, rows*rb, len(w)))
	}
}

// job is one MatVec/MatMul call shared by the caller and the helpers it
// enlists. Rows are handed out in chunks through next.
type job struct {
	k     *kernel
	y     []float32
	w     []byte
	x     []float32
	rb    int // bytes per weight row
	cols  int // values per row
	n     int // number of activation vectors
	rows  int
	chunk int
	next  atomic.Int64
	wg    sync.WaitGroup
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

// The worker pool: goroutines started on demand, up to GOMAXPROCS-1 of them
// (the caller is the remaining participant), fed through a buffered channel.
// They live for the life of the process.
var (
	poolMu      sync.Mutex
	poolStarted atomic.Int32
	poolCh      = make(chan *job, 256)
)

const maxWorkers = 255

// ensureWorkers makes sure at least n workers exist and returns how many may
// be enlisted (n, capped at maxWorkers).
func ensureWorkers(n int) int {
	n = min(n, maxWorkers)
	if int(poolStarted.Load()) >= n {
		return n
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	for int(poolStarted.Load()) < n {
		go func() {
			for j := range poolCh {
				j.work()
				j.wg.Done()
			}
		}()
		poolStarted.Add(1)
	}
	return n
}

// run computes rows of y, in parallel when the product is large enough.
func run(k *kernel, y []float32, w []byte, rb int, x []float32, cols, n int) {
	rows := len(y) / n
	work := rows * cols * n
	if work <= parallelMin || rows < 2 {
		compute(k, y, w, rb, x, cols, n, 0, rows)
		return
	}
	procs := runtime.GOMAXPROCS(0)
	if procs <= 1 {
		compute(k, y, w, rb, x, cols, n, 0, rows)
		return
	}
	// Chunks: about four per participant for balance, but not smaller than
	// ~16K values of work each.
	chunk := (rows + 4*procs - 1) / (4 * procs)
	if minRows := (1 << 14) / (cols * n); chunk < minRows {
		chunk = minRows
	}
	chunk = max(chunk, 1)
	nchunks := (rows + chunk - 1) / chunk
	helpers := min(procs-1, nchunks-1)
	if helpers <= 0 {
		compute(k, y, w, rb, x, cols, n, 0, rows)
		return
	}
	helpers = ensureWorkers(helpers)

	j := jobPool.Get().(*job)
	j.k, j.y, j.w, j.x = k, y, w, x
	j.rb, j.cols, j.n, j.rows, j.chunk = rb, cols, n, rows, chunk
	j.next.Store(0)
	for i := 0; i < helpers; i++ {
		j.wg.Add(1)
		select {
		case poolCh <- j:
		default:
			// Workers are saturated (other calls in flight): do it ourselves.
			j.wg.Done()
		}
	}
	j.work()
	j.wg.Wait()
	j.k, j.y, j.w, j.x = nil, nil, nil, nil
	jobPool.Put(j)
}

// work takes chunks of rows until none are left.
func (j *job) work() {
	for {
		hi := int(j.next.Add(int64(j.chunk)))
		lo := hi - j.chunk
		if lo >= j.rows {
			return
		}
		compute(j.k, j.y, j.w, j.rb, j.x, j.cols, j.n, lo, min(hi, j.rows))
	}
}

// compute does rows [lo, hi) of a MatVec (n == 1) or MatMul.
func compute(k *kernel, y []float32, w []byte, rb int, x []float32, cols, n, lo, hi int) {
	if n == 1 {
		dot := k.dot
		for i := lo; i < hi; i++ {
			y[i] = dot(w[i*rb:(i+1)*rb], x)
		}
		return
	}
	matmulRows(k, y, w, rb, x, cols, n, lo, hi)
}

// Tiling of the batched product: rows are taken in groups of about
// rowGroupBytes of weights (so that they stay in cache while every tile of
// vectors passes over them), activation vectors tileN at a time, and each
// weight row is decoded span values at a time into a small buffer that is
// then dotted with every vector of the tile.
const (
	tileN         = 8
	span          = 256
	rowGroupBytes = 64 << 10
)

// spanPool holds decode buffers for matmulRows. (A stack array would escape
// through the indirect dequant call and be heap-allocated on every call.)
var spanPool = sync.Pool{New: func() any { return new([span]float32) }}

// matmulRows computes y[j*rows+i] for rows i in [lo, hi) and all j.
func matmulRows(k *kernel, y []float32, w []byte, rb int, x []float32, cols, n, lo, hi int) {
	// A span of 256 values is a whole number of blocks of every supported
	// type (block sizes 1, 32 and 256).
	step := span
	bufp := spanPool.Get().(*[span]float32)
	defer spanPool.Put(bufp)
	buf := bufp[:]
	group := max(1, rowGroupBytes/max(rb, 1))
	for g0 := lo; g0 < hi; g0 += group {
		matmulGroup(k, y, w, rb, x, cols, n, g0, min(g0+group, hi), buf, step)
	}
}

// matmulGroup computes y[j*rows+i] for rows i in [lo, hi) and all j, using
// buf to decode step values at a time.
func matmulGroup(k *kernel, y []float32, w []byte, rb int, x []float32, cols, n, lo, hi int, buf []float32, step int) {
	rows := len(y) / n
	bs, bb := k.blockSize, k.blockBytes
	for j0 := 0; j0 < n; j0 += tileN {
		nt := min(tileN, n-j0)
		for i := lo; i < hi; i++ {
			row := w[i*rb : (i+1)*rb]
			var acc [tileN]float32
			for c := 0; c < cols; c += step {
				m := min(step, cols-c)
				seg := buf[:m]
				off := c / bs * bb
				k.dequant(seg, row[off:off+m/bs*bb])
				t := 0
				for ; t+4 <= nt; t += 4 {
					xo := (j0+t)*cols + c
					s0, s1, s2, s3 := dot4F32(seg, x[xo:xo+m], x[xo+cols:xo+cols+m], x[xo+2*cols:xo+2*cols+m], x[xo+3*cols:xo+3*cols+m])
					acc[t] += s0
					acc[t+1] += s1
					acc[t+2] += s2
					acc[t+3] += s3
				}
				for ; t < nt; t++ {
					xo := (j0+t)*cols + c
					acc[t] += dotF32F32(seg, x[xo:xo+m])
				}
			}
			for t := 0; t < nt; t++ {
				y[(j0+t)*rows+i] = acc[t]
			}
		}
	}
}

// dotF32F32 is the plain float32 dot product of a and b[:len(a)].
func dotF32F32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dot4F32 returns the dot products of a with b0..b3 (each at least len(a)
// long), loading each value of a once for four products.
func dot4F32(a, b0, b1, b2, b3 []float32) (s0, s1, s2, s3 float32) {
	n := len(a)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	for i, w := range a {
		s0 += w * b0[i]
		s1 += w * b1[i]
		s2 += w * b2[i]
		s3 += w * b3[i]
	}
	return
}
