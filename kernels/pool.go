package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
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
	_     [40]byte
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
	for {
		j := s.next()
		j.work()
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

// runEnlisted hands j to the enlisted workers, works on it as participant
// 0, and returns when every participant is done. Helpers that have not
// picked the job up by the time the caller runs out of work are taken back
// (their threads may not even be scheduled, when other processes share the
// machine).
func (j *job) runEnlisted() {
	j.joined.Store(0)
	j.helping.Store(int32(len(j.enlisted)))
	for _, s := range j.enlisted {
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
