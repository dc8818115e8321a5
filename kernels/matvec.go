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
	xq    []byte // prepared activations, n vectors of ab bytes
	ab    int
	rb    int // bytes per weight row
	n     int // number of activation vectors
	rows  int
	chunk int
	next  atomic.Int64
	wg    sync.WaitGroup
	// helping counts enlisted helpers that have not finished.
	helping atomic.Int32
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
		go worker()
		poolStarted.Add(1)
	}
	return n
}

// workerSpins is how many times an idle worker polls for the next job
// (a few hundred microseconds) before it parks. Decode issues hundreds of
// small products per token back to back; waking a parked goroutine costs
// tens of microseconds each time, as much as many of the products take.
const workerSpins = 20000

func worker() {
	for {
		var j *job
		for spin := 0; spin < workerSpins && j == nil; spin++ {
			select {
			case j = <-poolCh:
			default:
			}
		}
		if j == nil {
			j = <-poolCh
		}
		j.work()
		j.helping.Add(-1)
		j.wg.Done()
	}
}

// run prepares the activations once, then computes rows of y, in parallel
// when the product is large enough.
func run(k *kernel, y []float32, w []byte, rb int, x []float32, cols, n int) {
	s := scratchPool.Get().(*scratch)
	ab := actBytes(k.act, cols)
	xq := s.bytes(n * ab)
	for j := 0; j < n; j++ {
		prepare(k.act, xq[j*ab:(j+1)*ab], x[j*cols:(j+1)*cols])
	}
	runPrepared(k, y, w, rb, xq, ab, cols, n)
	scratchPool.Put(s)
}

func runPrepared(k *kernel, y []float32, w []byte, rb int, xq []byte, ab, cols, n int) {
	rows := len(y) / n
	work := rows * cols * n
	procs := runtime.GOMAXPROCS(0)
	if work <= parallelMin || rows < 2 || procs <= 1 {
		compute(k, y, w, rb, xq, ab, n, 0, rows)
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
		compute(k, y, w, rb, xq, ab, n, 0, rows)
		return
	}
	helpers = ensureWorkers(helpers)

	j := jobPool.Get().(*job)
	j.k, j.y, j.w, j.xq = k, y, w, xq
	j.ab, j.rb, j.n, j.rows, j.chunk = ab, rb, n, rows, chunk
	j.next.Store(0)
	for i := 0; i < helpers; i++ {
		j.wg.Add(1)
		j.helping.Add(1)
		select {
		case poolCh <- j:
		default:
			// Workers are saturated (other calls in flight): do it ourselves.
			j.helping.Add(-1)
			j.wg.Done()
		}
	}
	j.work()
	// The helpers are on their last chunks: poll briefly before parking.
	for spin := 0; spin < workerSpins && j.helping.Load() > 0; spin++ {
	}
	j.wg.Wait()
	j.k, j.y, j.w, j.xq = nil, nil, nil, nil
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
		compute(j.k, j.y, j.w, j.rb, j.xq, j.ab, j.n, lo, min(hi, j.rows))
	}
}

// rowGroupBytes is the size of the groups of weight rows a batched product
// takes at a time: each group is read from memory once and then stays in
// the core's cache (L2) while every activation vector passes over it.
const rowGroupBytes = 128 << 10

// compute does rows [lo, hi) of a MatVec (n == 1) or MatMul.
func compute(k *kernel, y []float32, w []byte, rb int, xq []byte, ab, n, lo, hi int) {
	if n == 1 {
		k.vec(y[lo:hi], w[lo*rb:hi*rb], rb, xq[:ab])
		return
	}
	rows := len(y) / n
	vec := k.vec
	if k.batchVec != nil {
		vec = k.batchVec
	}
	group := max(1, rowGroupBytes/max(rb, 1))
	for g0 := lo; g0 < hi; g0 += group {
		g1 := min(g0+group, hi)
		wg := w[g0*rb : g1*rb]
		for j := 0; j < n; j++ {
			vec(y[j*rows+g0:j*rows+g1], wg, rb, xq[j*ab:(j+1)*ab])
		}
	}
}
