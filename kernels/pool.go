package kernels

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The worker pool: goroutines started on demand, up to GOMAXPROCS-1 of them
// (the caller of a product is the remaining participant), that live for the
// life of the process. Each has a slot through which a caller hands it a
// job: the caller claims an idle worker's slot with a compare-and-swap and
// stores the job there, and the worker, polling its own slot, starts within
// a cache-line transfer. A channel shared by all workers took about three
// times as long from hand-off to start, and decode hands out over a
// hundred jobs per token. Callers that find no idle worker do the job
// alone, so concurrent calls never queue behind each other.

// Slot states.
const (
	slotBusy   int32 = iota // running a job, or claimed by a caller
	slotIdle                // polling the slot
	slotParked              // waiting on wake
)

// workerSlot is one worker's mailbox, on a cache line of its own.
type workerSlot struct {
	state atomic.Int32
	job   atomic.Pointer[job]
	wake  chan struct{} // a token for a parked worker that has been claimed
	// pf, when set, is a hint (packHint) of bytes the idle worker reads
	// into its cache (see WillMultiply); pfNext is the hint for the product
	// after the next one, moved to pf when that one is handed out. A
	// hint's start and length share a word, so a worker never reads the
	// start of one hint with the length of another.
	pf, pfNext atomic.Uint64
	// part is the worker's participant number in the job it is handed:
	// its place among the job's helpers, after the caller's 0.
	part int
}

const maxWorkers = 255

var (
	poolMu      sync.Mutex
	poolStarted atomic.Int32
	slots       [maxWorkers]workerSlot
)

// workerSpins is how many times an idle worker polls its slot (a few
// hundred microseconds) before it parks. Decode issues hundreds of small
// products per token back to back; waking a parked goroutine costs tens of
// microseconds each time, as much as many of the products take.
const workerSpins = 20000

// ensureWorkers makes sure at least n workers exist and returns how many may
// be enlisted (n, capped at maxWorkers).
func ensureWorkers(n int) int {
	n = min(n, maxWorkers)
	if int(poolStarted.Load()) >= n {
		return n
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	for i := int(poolStarted.Load()); i < n; i++ {
		s := &slots[i]
		s.wake = make(chan struct{}, 1)
		s.state.Store(slotBusy) // until the worker polls
		go worker(s)
		poolStarted.Add(1)
	}
	return n
}

// worker runs the jobs handed to its slot.
func worker(s *workerSlot) {
	debug.SetPanicOnFault(true) // a stale hint's loads (readHint)
	for {
		j := s.next()
		j.workAs(s.part)
		j.helping.Add(-1)
	}
}

// next marks the worker idle and returns the next job handed to it,
// parking after workerSpins polls.
func (s *workerSlot) next() *job {
	s.state.Store(slotIdle)
	for spin := 0; ; spin++ {
		switch s.state.Load() {
		case slotBusy:
			// Claimed: the job follows, unless the caller takes it back
			// (it then marks the slot idle again).
			if j := s.job.Swap(nil); j != nil {
				return j
			}
		case slotIdle:
			// Look before swapping: a swap writes the slot's line, which
			// callers read to claim the worker.
			if s.pf.Load() != 0 {
				if h := s.pf.Swap(0); h != 0 {
					s.readHint(h)
				}
			}
			if spin >= workerSpins && s.state.CompareAndSwap(slotIdle, slotParked) {
				<-s.wake
				spin = 0
				continue
			}
		}
		spinPause()
	}
}

// enlist claims up to n idle (or parked) workers for j, recording their
// slots in j.enlisted; it does not hand them the job yet.
func (j *job) enlist(n int) {
	j.enlisted = j.enlisted[:0]
	if n <= 0 {
		return
	}
	started := ensureWorkers(n)
	for i := 0; i < int(poolStarted.Load()) && len(j.enlisted) < started; i++ {
		s := &slots[i]
		if s.state.CompareAndSwap(slotIdle, slotBusy) {
			j.enlisted = append(j.enlisted, s)
		} else if s.state.CompareAndSwap(slotParked, slotBusy) {
			j.enlisted = append(j.enlisted, s)
			s.wake <- struct{}{} // buffered: one token per park
		}
	}
}

// runEnlisted hands j to the enlisted workers (participants 1, 2, ... in
// slot order, each number below GOMAXPROCS and in use by one goroutine at
// a time), works on it as participant 0, and returns when every
// participant is done. Helpers that have not
// picked the job up by the time the caller runs out of work are taken back
// (their threads may not even be scheduled, when other processes share the
// machine).
func (j *job) runEnlisted() {
	j.helping.Store(int32(len(j.enlisted)))
	for i, s := range j.enlisted {
		s.part = i + 1
		if h := s.pfNext.Swap(0); h != 0 {
			s.pf.Store(h)
		}
		s.job.Store(j)
	}
	j.workAs(0)
	for _, s := range j.enlisted {
		if s.job.CompareAndSwap(j, nil) {
			s.state.Store(slotIdle)
			j.helping.Add(-1)
		}
	}
	for spin := 1; j.helping.Load() > 0; spin++ {
		if spin%4096 == 0 {
			runtime.Gosched() // a helper was preempted mid-chunk
		} else {
			spinPause()
		}
	}
	clear(j.enlisted)
	j.enlisted = j.enlisted[:0]
}

// prefetchStep is how many bytes an idle worker reads of a hint between
// looks at its slot.
const prefetchStep = 4096

// readHint brings the bytes hint h names into the cache, a step at a time,
// until done or claimed. It reads them rather than asking for them with
// prefetch instructions: a step's 64 prefetches overflow the core's queue
// of misses, which drops some, while loads wait their turn. Tokens decoded
// alternately with each took 0.6% less time with a load per line on
// TinyLlama Q4_K_M (seven paired runs of 200 tokens), 0.7% on Q8_0 and
// 0.4% on F16; reading every byte of the lines (touchLines), which one
// core streamed at 27-34 GB/s against 24-30, took 0.16% less again on
// Q4_K_M (ten paired runs; Q8_0 the same within noise).
//
// A hint may be stale: its product's memory unmapped since (a model
// closed with a hint pending). Where a prefetch would be dropped, the load
// faults; the worker runs with debug.SetPanicOnFault, and readHint
// recovers from the fault and drops the hint.
func (s *workerSlot) readHint(h uint64) {
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
		}
	}()
	p, n := uintptr(h&hintAddrMask), int(h>>hintLenShift&hintLenMask)*hintLenUnit
	for off := 0; off < n && s.state.Load() == slotIdle; off += prefetchStep {
		touchLines(p+uintptr(off), min(prefetchStep, n-off))
	}
}

// A hint packs into one word the start of the bytes (48 bits: the user
// address space of amd64 and arm64) and their length in 512-byte units
// (12 bits, up to 2 MiB).
const (
	hintAddrMask = 1<<48 - 1
	hintLenShift = 48
	hintLenMask  = 1<<12 - 1
	hintLenUnit  = 512
)

// packHint returns the hint for the n bytes at p (n a multiple of 512), or
// 0 (none) when they do not fit one.
func packHint(p *byte, n int) uint64 {
	a := uint64(uintptr(unsafe.Pointer(p)))
	u := uint64(n / hintLenUnit)
	if a > hintAddrMask || u == 0 || u > hintLenMask {
		return 0
	}
	return a | u<<hintLenShift
}

// prefetchAhead caps the bytes an idle worker prefetches of the next
// product: its core's L2 (1 MiB on Zen 5). In paired decode steps on
// TinyLlama Q4_K_M a 256 KiB cap saved 0.5% of a token and 1 MiB about
// 1%; more measured the same.
const prefetchAhead = 1 << 20

// WillMultiply tells the pool which product follows the next one handed
// to it: MatMuls(ps, x, 1), each p.W exactly its matrix's rows (p.Y is not
// used). The workers that help with the next product, once done with
// their share of it, bring the start of the lane each will be given in ps
// into their caches (up to prefetchAhead bytes), while the caller does the
// serial work between the two (norms, RoPE, attention) and the memory
// would otherwise sit idle. Lanes are by position, caller first and then
// the workers in slot order (the other way round every other product: see
// productTurns), so a worker's lane is known before the product is handed
// out. A hint is only a hint: concurrent callers may
// overwrite each other's, and a worker claimed for something else stops.
func WillMultiply(ps []Product) {
	workers := int(poolStarted.Load())
	parts := min(runtime.GOMAXPROCS(0), workers+1)
	if parts < 2 {
		return
	}
	total := 0
	for _, p := range ps {
		total += len(p.W)
	}
	// The product after the next one takes the turn after the next.
	swapped := swappedTurn(productTurns.Load() + 1)
	for i := 1; i < parts; i++ {
		off := laneOf(i, parts, swapped) * total / parts
		for _, p := range ps {
			b := len(p.W)
			if off < b {
				n := min(prefetchAhead, b-off, total/parts) &^ (hintLenUnit - 1)
				if n > 0 {
					slots[i-1].pfNext.Store(packHint(&p.W[off], n))
				}
				break
			}
			off -= b
		}
	}
}

// Prefetch by the participants of a product (WillRead, WillReadFor):
// regions recorded for the next product, which a participant brings into
// its cache once it has no rows of it left to take, while the others
// finish theirs.
const (
	maxSoon = 16
	// soonBytes caps each region: enough for the lines read with little
	// locality (a short context's keys and values), where the time goes to
	// waiting on each miss; longer runs stream at full speed anyway once
	// the hardware prefetcher has caught on.
	soonBytes = 32 << 10
	// soonTotal caps the runs of a strided region together.
	soonTotal = 256 << 10
)

// region is memory to prefetch for one participant: count pieces of n
// bytes, stride bytes apart, from p.
type region struct {
	p                *byte
	n, stride, count int
	part             int
}

// soon holds the regions recorded by WillRead and WillReadFor until the
// next product takes them. Its fields are atomic so that concurrent callers
// (which may overwrite each other's hints) stay free of data races.
var soon struct {
	n    atomic.Int32
	regs [maxSoon]struct {
		p                atomic.Pointer[byte]
		n, stride, count atomic.Int64
		part             atomic.Int32
	}
}

// WillRead tells the pool that the caller reads (or writes) s right after
// the next product it hands out (MatMuls, MatVec, MatMul) returns: the
// serial work between two products (norm weights, the attention's keys and
// values) that memory has long evicted and whose scattered lines would
// each stall the core. Once the caller has no rows of that product left
// to take, it prefetches up to 32 KiB from the start of s, with intent to
// write, while the workers finish theirs, which costs the memory a few
// microseconds it would spend anyway and the serial work its waits.
// At most sixteen regions are kept per product; a product the caller
// computes alone drops them.
func WillRead[E any](s []E) { WillReadFor(0, s, len(s), len(s)) }

// WillReadFor is WillRead for participant part of the next product (0 the
// caller, then the workers, numbered as ParallelFor numbers its lanes) and
// for every stride-th run of width elements of s, from s[0]: the share of
// a ParallelFor after the product that lane part will read, such as some
// heads' keys and values. Each run is prefetched up to 32 KiB, and the
// runs up to 256 KiB in all.
func WillReadFor[E any](part int, s []E, width, stride int) {
	if len(s) == 0 || width <= 0 || stride < width || part < 0 {
		return
	}
	i := soon.n.Load()
	if i >= maxSoon {
		return
	}
	size := int(unsafe.Sizeof(s[0]))
	n := min(width, len(s), soonBytes/size) * size
	count := min((len(s)+stride-1)/stride, max(soonTotal/n, 1))
	r := &soon.regs[i]
	r.p.Store((*byte)(unsafe.Pointer(unsafe.SliceData(s))))
	r.n.Store(int64(n))
	r.stride.Store(int64(stride * size))
	r.count.Store(int64(count))
	r.part.Store(int32(part))
	soon.n.Store(i + 1)
}

// takeSoon moves the regions recorded into j (or drops them when keep is
// false).
func (j *job) takeSoon(keep bool) {
	c := int(soon.n.Swap(0))
	j.nsoon = 0
	if !keep {
		return
	}
	for i := 0; i < min(c, maxSoon); i++ {
		r := &soon.regs[i]
		if p := r.p.Swap(nil); p != nil {
			j.soon[j.nsoon] = region{p: p, n: int(r.n.Load()), stride: int(r.stride.Load()),
				count: int(r.count.Load()), part: int(r.part.Load())}
			j.nsoon++
		}
	}
}

// prefetchSoon brings participant p's regions into its cache.
func (j *job) prefetchSoon(p int) {
	if j.nsoon == 0 {
		return
	}
	for _, r := range j.soon[:j.nsoon] {
		if r.part != p {
			continue
		}
		// With intent to write: the KV store writes some of these lines,
		// and with them owned the attention's reads of the rest measured
		// faster too (a layer's store and attention at 64 positions 6.8
		// to 5.6 µs).
		prefetchWRuns(r.p, r.n, r.stride, r.count)
	}
}

// forgetSoon drops the job's regions.
func (j *job) forgetSoon() {
	clear(j.soon[:j.nsoon])
	j.nsoon = 0
}
