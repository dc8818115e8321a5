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

// segment is one weight matrix of a job: rows [row0, row0+units) of the
// job's row space, each of them a unit of the kernel's rows (one row, or
// an interleaved layout's sixteen) and rb bytes.
type segment struct {
	k     *kernel
	y     []float32
	w     []byte
	rb    int
	xq    []byte // prepared activations, n vectors of ab bytes
	ab    int
	row0  int
	units int
	// bcast, when set (private), is the broadcast form (actQ8_KB or
	// actQ8_0B) the kernel takes, of which xq holds only the base blocks:
	// each participant spreads them into a copy of its own (see
	// privateActs).
	bcast   actKind
	private bool
}

// privateActs is a participant's own copies of a single vector's
// broadcast activations in a job, one for each broadcast form, each
// spread from the base blocks the caller quantized when the participant
// first computes rows against it. The broadcast forms take eight times
// their quants (17 KiB for 2048 values); shared, the caller wrote them
// all and each other core then drew every line of them from the caller's
// caches, and the caller had to write to each of them again (claim) to
// take them back before its next product's preparation. Each core
// spreading its own copy from the base blocks (2.3 KiB for 2048 values)
// keeps those lines in its own caches: timed inside TinyLlama Q4_K_M's
// decode on a Zen 1, a product's preparation went from 2.9 to 1.9 µs
// and the caller's work after it from 1.5 to 0.5 µs.
type privateActs struct {
	s [numBcast]scratch
	// spread holds, for each form, the job.turn whose activations s holds.
	spread [numBcast]uint64
}

// numBcast is the number of broadcast forms.
const numBcast = 2

// bcastIndex returns the index of the broadcast form a among privateActs'.
func bcastIndex(a actKind) int {
	if a == actQ8_0B {
		return 1
	}
	return 0
}

// baseForm returns the form the broadcast form a is spread from, and
// whether a is a broadcast form.
func baseForm(a actKind) (actKind, bool) {
	switch a {
	case actQ8_KB:
		return actQ8_K, true
	case actQ8_0B:
		return actQ8_0, true
	}
	return a, false
}

// spreadBase spreads the base blocks src into dst, the broadcast form a.
func spreadBase(a actKind, dst, src []byte) {
	if a == actQ8_0B {
		spreadQ8_0B(dst, src, len(src)/q8Block)
		return
	}
	spreadQ8_KB(dst, src, len(src)/q8KBlock)
}

// bcastBytes returns the size of the broadcast form a of base bytes of
// its base blocks.
func bcastBytes(a actKind, base int) int {
	if a == actQ8_0B {
		return base / q8Block * q8BBlock
	}
	return base / q8KBlock * q8KBBlock
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
	// each, when set, makes the job a ParallelFor: rows are indices.
	each  func(p, i int)
	n     int // number of activation vectors
	rows  int
	chunk int
	next  atomic.Int64
	// minChunk is the fewest rows a claim from a lane takes, and part the
	// fraction of what is left of the lane a claim takes (1/part).
	minChunk, part int
	// lanes, when in use (nlanes > 0), split a product's rows into one
	// contiguous range per participant (see lane).
	lanes  []lane
	nlanes int
	// enlisted are the slots of the workers helping with the job, and
	// helping counts those that have not finished.
	enlisted []*workerSlot
	helping  atomic.Int32
	// soon are the regions participants prefetch once their lanes are
	// done (WillRead, WillReadFor).
	soon  [maxSoon]region
	nsoon int
	// minSteal is the fewest rows a lane must have left for a worker to
	// take rows from its back (see minStealBytes); 0 for any.
	minSteal int
	// swapped, when set, gives participant p the lane at the other end,
	// nlanes-1-p (see productTurns).
	swapped bool
	// private holds each participant's broadcast activations (see
	// privateActs), for jobs with private segments, and turn counts the
	// jobs that used them, so that a copy is known to be this job's.
	private []privateActs
	turn    uint64
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

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
	j.turn++ // no participant's private activations are this job's yet
	// One scratch buffer per activation form in use.
	var prepared [numActKinds]*scratch
	var preparedBytes [numActKinds]int
	total, bytes, unit := 0, 0, 1
	for _, p := range ps {
		bytes += len(p.W)
		k := lookup(p.Type)
		if len(p.Y)%n != 0 {
			panic(fmt.Sprintf("kernels: MatMuls: n=%d does not divide len(Y)=%d", n, len(p.Y)))
		}
		rows := len(p.Y) / n
		rb := k.rowBytes(cols)
		checkWeights("MatMuls", p.Type, p.W, rows, rb)
		u := k.unitRows()
		unit = max(unit, u)
		if rows%u != 0 {
			panic(fmt.Sprintf("kernels: MatMuls %v: %d rows is not a whole number of %d-row units", p.Type, rows, u))
		}
		act := k.actFor(n)
		var bcast actKind
		base, private := baseForm(act)
		if private && n == 1 {
			bcast, act = act, base
		}
		ab := actBytes(act, cols)
		s := prepared[act]
		if s == nil {
			s = scratchPool.Get().(*scratch)
			prepared[act] = s
			preparedBytes[act] = n * ab
			xq := s.bytes(n * ab)
			for v := 0; v < n; v++ {
				prepare(act, xq[v*ab:(v+1)*ab], x[v*cols:(v+1)*cols])
			}
		}
		j.segs = append(j.segs, segment{k: k, y: p.Y, w: p.W, rb: rb * u, xq: s.bytes(n * ab), ab: ab, row0: total, units: rows / u, bcast: bcast, private: private && n == 1})
		if private && n == 1 && j.private == nil {
			// One for every participant number a job can have (their
			// buffers grow when first used).
			j.private = make([]privateActs, maxWorkers+1)
		}

		total += rows / u
	}
	// A product of one vector streams its weights: it tunes the prefetch
	// distance (tune.go).
	var tu tuning
	if n == 1 {
		tu = tuner.begin(bytes)
	}
	if total*cols*unit*n <= parallelMin || total < 2 || runtime.GOMAXPROCS(0) <= 1 {
		j.takeSoon(false)
		for i := range j.segs {
			sg := &j.segs[i]
			xq, ab := j.activations(0, sg)
			compute(sg.k, sg.y, sg.w, sg.rb, xq, ab, n, 0, sg.units)
		}
	} else {
		j.takeSoon(true)
		if n == 1 {
			j.minSteal = (minStealBytes*total + bytes - 1) / bytes
			j.swapped = swappedTurn(productTurns.Add(1) - 1)
		}
		j.runParallel(cols*unit, n, total)
		if n == 1 {
			for a, s := range prepared {
				if s != nil {
					claim(s.bytes(preparedBytes[a]))
				}
			}
		}
	}
	tuner.end(tu, ps[0].W, bytes)
	j.release()
	for _, s := range prepared {
		if s != nil {
			scratchPool.Put(s)
		}
	}
}

// claim writes a zero to each cache line of b: scratch that the caller
// has just shared with the pool's workers (activations they read through
// a product) and that the next product's preparation overwrites, most
// likely in the same buffer (the pool hands back the last one returned).
// A write to a line the workers hold needs it taken from their caches
// first; claimed here, with the product done, those transfers overlap the
// serial work between the two products instead of stalling the next
// quantization. Measured on decode (TinyLlama Q4_K_M, two cores), the
// activations' preparation took 0.12-0.13 ms a token with the claim and
// 0.13-0.17 ms without while the memory gave 34-37 GB/s, and 0.17 against
// 0.26-0.36 ms at 46-55 GB/s; tokens decoded alternately with and without
// it took 0.27% less time with it (four paired runs of 200 tokens).
func claim(b []byte) {
	for i := 0; i < len(b); i += 64 {
		b[i] = 0
	}
}

// runParallel computes the job's rows on the caller and the pool's workers.
//
// Each participant streams a contiguous lane of rows, as much of the
// weights' bytes as every other lane, taking it a chunk at a time from the
// front; one that finishes its lane takes chunks from the back of the
// fullest other lane. Chunks handed out in turn from one shared counter
// would make every participant's reads jump at every chunk: each jump
// restarts the memory prefetch (the kernels' and the hardware's), and the
// prefetch that ran ahead of a chunk's end brought in rows that another
// core then reads. Measured on decode, products over one counter with
// eight chunks streamed at 0.86-0.95 of the memory bandwidth and with four
// at 0.90-0.97.
//
// The job's rows are units (kernel.unit): unitVals is the number of
// weights in the largest unit, cols times its rows.
func (j *job) runParallel(unitVals, n, rows int) {
	procs := runtime.GOMAXPROCS(0)
	chunk, minRows := chunkRows(unitVals, n, rows, procs)
	j.n, j.rows, j.chunk, j.minChunk, j.part = n, rows, chunk, minRows, claimPart(n)
	j.enlist(min(procs, (rows+chunk-1)/chunk) - 1)
	j.splitLanes(1 + len(j.enlisted))
	j.runEnlisted()
	j.nlanes = 0
}

// chunkRows returns the most rows (units of unitVals weights each) a
// participant claims at a time from the front of its lane, and the fewest
// it claims from the back of another's, for a job of rows units and n
// vectors on procs participants. A claim takes a part of what is left of
// the lane (claimPart), at most the chunk: the claims shrink as the lane
// does, so the last ones even out the lanes, but not below ~16K values of
// work each. (Counted in rows of cols values where the units were 16 rows,
// the least claim was 16 times that: 8 units of a 2048-column Q4_K
// matrix, 147 KB, about 6 µs of one core's streaming, and the two
// participants of a Wo product finished 0.5-2.5 µs apart on average; sized
// in weights, 0.2-0.8 µs.)
//
// For a single vector the chunk is a quarter of a two-core job and a claim
// half of what is left. In paired runs (tokens decoded alternately with
// each setting, four runs of 200 tokens on TinyLlama Q4_K_M), against a
// 32nd of the job and quarters of what is left (the setting before, still
// that of batches), an eighth with quarters decoded 1.1% faster and a
// quarter with halves 0.8% faster again; on Q8_0 and F16 the two steps
// gained 0.4% and 0.3%. Without claims from the back (each participant
// its own lane only) decode was 0.7% slower than with quarters.
func chunkRows(unitVals, n, rows, procs int) (chunk, minRows int) {
	minRows = max((1<<14)/(unitVals*n), 1)
	d := 2
	if n > 1 {
		d = 16 // batches (prefill): not measured better with larger claims
	}
	return max((rows+d*procs-1)/(d*procs), minRows), minRows
}

// claimPart is the fraction (1/claimPart) of what is left of a lane that
// a claim on a job of n vectors takes (see chunkRows).
func claimPart(n int) int {
	if n == 1 {
		return 2
	}
	return 4
}

// lane is one participant's share of a product job's rows, [front, back):
// its owner takes chunks from the front, and participants that have
// finished their own lanes take chunks from the back. Both ends live in
// one word so that a compare-and-swap claims a chunk; each lane has a
// cache line of its own.
type lane struct {
	ends atomic.Uint64 // front in the low 32 bits, back in the high 32
	_    [56]byte
}

func (l *lane) set(front, back int) { l.ends.Store(uint64(front) | uint64(back)<<32) }

// take claims rows from the front of the lane, or from the back when
// fromBack is set: a part-th of what is left, at most chunk rows and at
// least minChunk; ok is false when the lane is empty.
func (l *lane) take(chunk, minChunk, part int, fromBack bool) (lo, hi int, ok bool) {
	for {
		v := l.ends.Load()
		front, back := int(uint32(v)), int(v>>32)
		if front >= back {
			return 0, 0, false
		}
		c := min(chunk, max(minChunk, (back-front)/part))
		lo, hi = front, min(front+c, back)
		nv := uint64(hi) | uint64(back)<<32
		if fromBack {
			lo, hi = max(back-c, front), back
			nv = uint64(front) | uint64(lo)<<32
		}
		if l.ends.CompareAndSwap(v, nv) {
			return lo, hi, true
		}
	}
}

// remaining returns how many rows the lane has left.
func (l *lane) remaining() int {
	v := l.ends.Load()
	return max(int(v>>32)-int(uint32(v)), 0)
}

// splitLanes divides the job's rows into p lanes of about the same number
// of weight bytes (the segments' rows differ in size when types are mixed).
func (j *job) splitLanes(p int) {
	if cap(j.lanes) < p {
		j.lanes = make([]lane, p)
	}
	j.lanes = j.lanes[:p]
	j.nlanes = p
	total := 0
	for i := range j.segs {
		total += j.segs[i].units * j.segs[i].rb
	}
	// Walk the segments, cutting a lane each time the running byte count
	// passes the next multiple of total/p.
	start, lane, acc := 0, 0, 0
	for i := range j.segs {
		sg := &j.segs[i]
		pos, end := sg.row0, sg.row0+sg.units
		for lane < p-1 {
			// Rows of this segment that bring the count to the lane's end.
			need := max((lane+1)*total/p-acc, 0)
			need = (need + sg.rb - 1) / max(sg.rb, 1)
			if need > end-pos {
				break
			}
			j.lanes[lane].set(start, pos+need)
			acc += need * sg.rb
			pos += need
			start = pos
			lane++
		}
		acc += (end - pos) * sg.rb
	}
	for ; lane < p; lane++ {
		j.lanes[lane].set(start, j.rows)
		start = j.rows
	}
}

// dispatch computes the job's rows (j.rows, j.chunk set) on the caller and
// as many idle workers as there are further chunks.
func (j *job) dispatch() {
	j.next.Store(0)
	j.enlist(min(runtime.GOMAXPROCS(0), (j.rows+j.chunk-1)/j.chunk) - 1)
	j.runEnlisted()
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
//
// The indices are split as a product's rows are: participant p (0 the
// caller) starts with lane p, the indices [p*n/P, (p+1)*n/P) of P =
// min(Participants(), n) lanes, in order, and then helps with the lanes
// still unfinished, from their ends. Work prepared for participant p in
// the product before (WillReadFor) therefore mostly meets the core that
// prepared it.
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
	j.n, j.rows = 1, n
	j.chunk, j.minChunk, j.part = max(1, n/(8*procs)), 1, 4
	j.enlist(min(procs, n) - 1)
	j.splitEven(1 + len(j.enlisted))
	j.runEnlisted()
	j.nlanes = 0
	j.release()
}

// Participants returns how many goroutines a product or ParallelFor is
// split over when the pool's workers are free: GOMAXPROCS, the caller
// included.
func Participants() int { return min(runtime.GOMAXPROCS(0), maxWorkers+1) }

// splitEven divides the job's rows into p lanes of as many rows each (give
// or take one).
func (j *job) splitEven(p int) {
	if cap(j.lanes) < p {
		j.lanes = make([]lane, p)
	}
	j.lanes = j.lanes[:p]
	j.nlanes = p
	for i := range p {
		j.lanes[i].set(i*j.rows/p, (i+1)*j.rows/p)
	}
}

// release clears the job's references and returns it to the pool.
func (j *job) release() {
	j.read, j.each, j.minSteal, j.swapped = nil, nil, 0, false
	j.forgetSoon()
	clear(j.segs)
	j.segs = j.segs[:0]
	jobPool.Put(j)
}

// workAs takes chunks of rows as participant p until none are left: from
// p's lane and then the others' when the job has lanes, else from the
// shared counter. A chunk that spans segments is computed piece by piece.
func (j *job) workAs(p int) {
	if j.nlanes > 0 {
		j.workLanes(p)
		return
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
		j.computeRows(p, lo, hi)
	}
}

// workLanes computes participant p's lane, then helps with the others',
// and at the end prefetches its WillRead regions. (A pass between the two
// as well, to ask again for the prefetches a burst of hundreds drops when
// it overflows the core's queue of misses, made a unit of attention's
// first reads of its keys and values faster, 0.4 µs against 0.83, but
// decode slower: tokens decoded alternately with and without it took
// 0.3% less time without, in eight paired runs of 200 tokens on TinyLlama
// Q4_K_M, and 0.1% on Q8_0 and F16.)
func (j *job) workLanes(p int) {
	own := laneOf(p, j.nlanes, j.swapped)
	if p < j.nlanes {
		for {
			lo, hi, ok := j.lanes[own].take(j.chunk, j.minChunk, j.part, false)
			if !ok {
				break
			}
			j.runRows(p, lo, hi)
		}
	}
	for {
		// The fullest lane left, from its back.
		best, most := -1, 0
		for i := 0; i < j.nlanes; i++ {
			if r := j.lanes[i].remaining(); r > most {
				best, most = i, r
			}
		}
		if best < 0 || p > 0 && most < j.minSteal {
			break // for the second, see minStealBytes
		}
		if lo, hi, ok := j.lanes[best].take(j.chunk, j.minChunk, j.part, true); ok {
			j.runRows(p, lo, hi)
		}
	}
	if p < j.nlanes {
		j.prefetchSoon(p)
	}
}

// runRows does rows [lo, hi) of the job as participant p: a ParallelFor's
// indices, or a product's rows.
func (j *job) runRows(p, lo, hi int) {
	if j.each != nil {
		for i := lo; i < hi; i++ {
			j.each(p, i)
		}
		return
	}
	j.computeRows(p, lo, hi)
}

// computeRows computes rows [lo, hi) of the job's row space, segment by
// segment, as participant p.
func (j *job) computeRows(p, lo, hi int) {
	for i := range j.segs {
		sg := &j.segs[i]
		r1 := sg.row0 + sg.units
		if r1 <= lo || sg.row0 >= hi {
			continue
		}
		a, b := max(lo, sg.row0)-sg.row0, min(hi, r1)-sg.row0
		if j.n == 1 {
			prefetchLines(&sg.w[a*sg.rb], min(streamStartBytes, (b-a)*sg.rb))
		}
		xq, ab := j.activations(p, sg)
		compute(sg.k, sg.y, sg.w, sg.rb, xq, ab, j.n, a, b)
	}
}

// activations returns the activations participant p computes segment sg
// against, and their bytes a vector: the segment's own, or, for a private
// segment, p's copy of their broadcast form, spread the first time.
func (j *job) activations(p int, sg *segment) ([]byte, int) {
	if !sg.private {
		return sg.xq, sg.ab
	}
	i, pa := bcastIndex(sg.bcast), &j.private[p]
	ab := bcastBytes(sg.bcast, sg.ab)
	xq := pa.s[i].bytes(ab)
	if pa.spread[i] != j.turn {
		spreadBase(sg.bcast, xq, sg.xq[:sg.ab])
		pa.spread[i] = j.turn
	}
	return xq, ab
}

// streamStartBytes is how much of each run of rows a single vector's
// product asks for with prefetches right before its kernel starts on the
// run. Where the run starts a stream (a lane's first claim, a claim from
// another lane's back, the next matrix of a claim), its first lines would
// otherwise each wait a memory latency while the core's prefetchers catch
// on: on a Zen 4 core a cold 18 KiB unit of Q4_K rows streamed at 9 GB/s
// and the next ones at 25-33. Where it continues one, the lines are on
// their way already and the prefetches cost a few cycles. (32 lines stay
// within the core's queue of misses; 4 KiB measured no better than none.)
const streamStartBytes = 2 << 10

// minStealBytes is the least a lane must have left, in weight bytes, for
// a worker that has finished its own lane to take rows from its back, in a
// single vector's product: a claim from the back starts a new stream (see
// streamStartBytes), which costs a small claim much of its time, while a
// worker that goes idle instead reads the start of its lane of the next
// product (WillMultiply) as the caller finishes. The caller, whose idle
// time would only be spent waiting, takes any rows left (and so a
// preempted worker never holds a product up for more than its last claim).
const minStealBytes = 128 << 10

// productTurns counts the single vector products handed out in parallel;
// every other one swaps its lanes' ends (swappedTurn), so that the
// participant whose lane ran to the end of one product, where the next
// product's weights start (a model's resident weights lie in the order
// they are used), starts the next one there and its stream goes on,
// while the other starts mid-matrix either way. Tokens decoded
// alternately with and without the swaps took 0.24% less time with them
// while the memory gave 55-60 GB/s (eleven paired runs of 200 tokens on
// TinyLlama Q4_K_M; the same within noise at 35-38 GB/s).
var productTurns atomic.Uint64

// swappedTurn reports whether the product of turn t (productTurns) swaps
// its lanes' ends.
func swappedTurn(t uint64) bool { return t%2 == 1 }

// laneOf returns the lane participant p of a job of n lanes starts with:
// its own, or the one at the other end when the job's lanes are swapped.
func laneOf(p, n int, swapped bool) int {
	if swapped && p < n {
		return n - 1 - p
	}
	return p
}

// rowGroupBytes is the size of the groups of weight rows a batched product
// takes at a time: each group is read from memory once and then stays in
// the core's cache (L2) while every activation vector passes over it.
const rowGroupBytes = 128 << 10

// compute does units [lo, hi) (rows, for other than interleaved layouts)
// of a MatVec (n == 1) or MatMul, each unit rb bytes. A batch goes a group
// of rows at a time: the kernel's register-blocked loop (kernel.batch),
// when it has one, takes the vectors it can several at a time, and the
// row loop the rest one at a time.
func compute(k *kernel, y []float32, w []byte, rb int, xq []byte, ab, n, lo, hi int) {
	u := k.unitRows()
	if n == 1 {
		k.vec(y[lo*u:hi*u], w[lo*rb:hi*rb], rb, xq[:ab])
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
		j0 := 0
		if k.batch != nil {
			j0 = k.batch(y, wg, rb, xq, ab, n, g0)
		}
		for j := j0; j < n; j++ {
			vec(y[j*rows+g0*u:j*rows+g1*u], wg, rb, xq[j*ab:(j+1)*ab])
		}
	}
}
