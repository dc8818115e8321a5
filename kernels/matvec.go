package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"ferry/dtype"
)

// parallelMin is the number of weight values (rows*cols*vectors) above
// which MatVec, MatMul and MatMuls split rows across the worker pool.
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
	MatMuls([]Product{{Y: y, W: w, Type: t}}, x, 1)
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
	MatMuls([]Product{{Y: y, W: w, Type: t}}, x, n)
}

func checkWeights(op string, t dtype.Type, w []byte, rows, rb int) {
	if rb != 0 && len(w)/rb < rows {
		panic(fmt.Sprintf("kernels: %s %v: %d rows of %d bytes need %d bytes, have %d", op, t, rows, rb, rows*rb, len(w)))
	}
}

// segment is one weight matrix of a job: rows [row0, row0+len(y)/n) of the
// job's row space.
type segment struct {
	k    *kernel
	y    []float32
	w    []byte
	rb   int
	xq   []byte // prepared activations, n vectors of ab bytes
	ab   int
	row0 int
}

// job is one MatVec/MatMul/MatMuls call shared by the caller and the helpers
// it enlists. Rows (of all its segments, end to end) are handed out in
// chunks through next.
type job struct {
	segs []segment
	// read, when set, makes the job a parallel read of these bytes (see
	// SumBytesParallel) in pieces of readPiece; the sum goes to readSum.
	read    []byte
	readSum atomic.Uint64
	// each, when set, makes the job a ParallelFor: rows are indices, and
	// joined numbers the participants.
	each   func(p, i int)
	joined atomic.Int32
	n      int // number of activation vectors
	rows   int
	chunk  int
	next   atomic.Int64
	wg     sync.WaitGroup
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
			if len(poolCh) > 0 {
				select {
				case j = <-poolCh:
				default:
				}
			} else {
				spinPause()
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

// Product is one weight matrix in a MatMuls call: Y = W x for each input
// vector, W holding len(Y)/n rows of type Type.
type Product struct {
	Y    []float32
	W    []byte
	Type dtype.Type
}

// MatMuls computes several products of the same n input vectors (stored
// back to back in x, as for MatMul) in one pass over the worker pool: for
// each p in ps, p.Y[j*rows+i] = Dot(row i of p.W, x[j*cols:(j+1)*cols]).
// Activations are prepared once per activation form, and the rows of all
// the matrices are split across the cores together, so that small
// matrices (attention's keys and values) neither wait on their own barrier
// nor leave a core idle. It panics on misuse, like MatMul.
func MatMuls(ps []Product, x []float32, n int) {
	if len(ps) == 0 {
		return
	}
	if n <= 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("kernels: MatMuls: n=%d does not divide len(x)=%d", n, len(x)))
	}
	cols := len(x) / n
	j := jobPool.Get().(*job)
	// One scratch buffer per activation form in use.
	var prepared [numActKinds]*scratch
	total := 0
	for _, p := range ps {
		k := lookup(p.Type)
		if len(p.Y)%n != 0 {
			panic(fmt.Sprintf("kernels: MatMuls: n=%d does not divide len(Y)=%d", n, len(p.Y)))
		}
		rows := len(p.Y) / n
		rb := k.rowBytes(cols)
		checkWeights("MatMuls", p.Type, p.W, rows, rb)
		ab := actBytes(k.act, cols)
		s := prepared[k.act]
		if s == nil {
			s = scratchPool.Get().(*scratch)
			prepared[k.act] = s
			xq := s.bytes(n * ab)
			for v := 0; v < n; v++ {
				prepare(k.act, xq[v*ab:(v+1)*ab], x[v*cols:(v+1)*cols])
			}
		}
		j.segs = append(j.segs, segment{k: k, y: p.Y, w: p.W, rb: rb, xq: s.bytes(n * ab), ab: ab, row0: total})
		total += rows
	}
	if total*cols*n <= parallelMin || total < 2 || runtime.GOMAXPROCS(0) <= 1 {
		for i := range j.segs {
			sg := &j.segs[i]
			compute(sg.k, sg.y, sg.w, sg.rb, sg.xq, sg.ab, n, 0, len(sg.y)/n)
		}
	} else {
		j.runParallel(cols, n, total)
	}
	j.release()
	for _, s := range prepared {
		if s != nil {
			scratchPool.Put(s)
		}
	}
}

// runParallel computes the job's rows on the caller and the pool's workers.
func (j *job) runParallel(cols, n, rows int) {
	procs := runtime.GOMAXPROCS(0)
	// Chunks: about four per participant for balance, but not smaller than
	// ~16K values of work each.
	chunk := (rows + 4*procs - 1) / (4 * procs)
	if minRows := (1 << 14) / (cols * n); chunk < minRows {
		chunk = minRows
	}
	chunk = max(chunk, 1)
	j.n, j.rows, j.chunk = n, rows, chunk
	j.dispatch()
}

// dispatch computes the job's rows (j.rows, j.chunk set) on the caller and
// as many of the pool's workers as there are further chunks.
func (j *job) dispatch() {
	procs := runtime.GOMAXPROCS(0)
	j.next.Store(0)
	nchunks := (j.rows + j.chunk - 1) / j.chunk
	helpers := min(procs-1, nchunks-1)
	if helpers <= 0 {
		j.work()
		return
	}
	helpers = ensureWorkers(helpers)
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
	// Every chunk is claimed; wait for the helpers to finish theirs. A
	// reference still in the queue means a worker has not started (its
	// thread may not even be scheduled, when other processes share the
	// machine): take it back, and run whatever other job comes out of the
	// queue as a worker would, so that we never wait for a helper that has
	// no work. Poll briefly, then park.
	for spin := 0; spin < workerSpins && j.helping.Load() > 0; spin++ {
		select {
		case other := <-poolCh:
			other.work()
			other.helping.Add(-1)
			other.wg.Done()
		default:
			spinPause()
		}
	}
	j.wg.Wait()
}

// readPiece is the unit of work of SumBytesParallel.
const readPiece = 256 << 10

// SumBytesParallel returns the sum of the bytes of b, read once by the
// threads the matrix products run on: the caller and the worker pool's
// goroutines (GOMAXPROCS in all), which are the ones already running, so
// none waits for a core. Timing it on memory the model reads measures the
// bandwidth available to the products.
func SumBytesParallel(b []byte) uint64 {
	if len(b) < 2*readPiece || runtime.GOMAXPROCS(0) <= 1 {
		return SumBytes(b)
	}
	j := jobPool.Get().(*job)
	j.read = b
	j.readSum.Store(0)
	j.n, j.rows = 1, (len(b)+readPiece-1)/readPiece
	j.chunk = max(1, j.rows/(4*runtime.GOMAXPROCS(0)))
	j.dispatch()
	s := j.readSum.Load()
	j.release()
	return s
}

// ParallelFor calls f(p, i) for every i in [0, n), spread over the caller
// and the worker pool's goroutines (the threads the products run on, so
// none waits for a core). p, below GOMAXPROCS, tells apart the calls that
// may run at the same moment, so that each can use scratch of its own. f
// must be safe for concurrent use; ParallelFor allocates nothing (keep f a
// value made once, not a closure made per call).
func ParallelFor(n int, f func(p, i int)) {
	procs := runtime.GOMAXPROCS(0)
	if n <= 1 || procs <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	j := jobPool.Get().(*job)
	j.each = f
	j.joined.Store(0)
	j.n, j.rows = 1, n
	j.chunk = max(1, n/(4*procs))
	j.dispatch()
	j.release()
}

// release clears the job's references and returns it to the pool.
func (j *job) release() {
	j.read, j.each = nil, nil
	clear(j.segs)
	j.segs = j.segs[:0]
	jobPool.Put(j)
}

// work takes chunks of rows until none are left; a chunk that spans
// segments is computed piece by piece.
func (j *job) work() {
	// A ParallelFor participant's number: each work call on a job is one
	// participant (the caller's, and one per queued reference), so fewer
	// than GOMAXPROCS.
	p := 0
	if j.each != nil {
		p = int(j.joined.Add(1)) - 1
	}
	for {
		hi := int(j.next.Add(int64(j.chunk)))
		lo := hi - j.chunk
		if lo >= j.rows {
			return
		}
		hi = min(hi, j.rows)
		if j.read != nil {
			j.readSum.Add(SumBytes(j.read[lo*readPiece : min(hi*readPiece, len(j.read))]))
			continue
		}
		if j.each != nil {
			for i := lo; i < hi; i++ {
				j.each(p, i)
			}
			continue
		}
		for i := range j.segs {
			sg := &j.segs[i]
			r1 := sg.row0 + len(sg.y)/j.n
			if r1 <= lo || sg.row0 >= hi {
				continue
			}
			compute(sg.k, sg.y, sg.w, sg.rb, sg.xq, sg.ab, j.n, max(lo, sg.row0)-sg.row0, min(hi, r1)-sg.row0)
		}
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
	if k.vecBatch != nil {
		vec = k.vecBatch
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
