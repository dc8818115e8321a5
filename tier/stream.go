package tier

import (
	"fmt"
	"time"
)

// IOError is the panic value Acquire raises when a streamed read failed; the
// engine recovers it at the edge of a forward pass and reports the error.
type IOError struct{ Err error }

// Error describes the failed read.
func (e IOError) Error() string { return "tier: streaming read failed: " + e.Err.Error() }

// Unwrap returns the read error.
func (e IOError) Unwrap() error { return e.Err }

// startReaders starts the pool of reader goroutines, once.
func (s *Store) startReaders() {
	if s.jobs != nil {
		return
	}
	s.jobs = make(chan readJob, 64)
	for i := 0; i < s.opts.Readers; i++ {
		go s.reader(s.jobs)
	}
}

// startStreaming allocates the staging ring and starts the prefetcher and
// the readers.
func (s *Store) startStreaming(staging int64) error {
	buf, err := allocAligned(int(staging))
	if err != nil {
		return fmt.Errorf("tier: cannot allocate %d MiB of staging: %w", staging>>20, err)
	}
	s.staging = ring{buf: buf, live: make([]region, 0, len(s.sched))}
	s.slots = make([]slot, len(s.sched))
	for i := range s.slots {
		s.slots[i].ready = make(chan struct{}, 1)
	}
	s.queue = make([]int, 0, len(s.sched))
	s.startReaders()
	s.wg.Add(1)
	go s.prefetch()
	return nil
}

// alignedRange returns the direct-I/O-aligned file range covering sp.
func alignedRange(sp *span) (a0, a1 int64) {
	a0 = sp.off &^ (directAlign - 1)
	a1 = (sp.off + sp.size + directAlign - 1) &^ (directAlign - 1)
	return a0, a1
}

// prefetch walks the schedule cyclically, reading each streamed span into
// the staging ring as soon as there is room.
func (s *Store) prefetch() {
	defer s.wg.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed {
		if s.restart >= 0 {
			s.drainLocked()
			s.cursor = s.restart
			s.restart = -1
			s.cond.Broadcast()
			continue
		}
		pos := s.cursor
		sp := s.sched[pos]
		a0, a1 := alignedRange(sp)
		buf, ok := s.staging.alloc(int(a1 - a0))
		if !ok {
			s.cond.Wait()
			continue
		}
		sl := &s.slots[pos]
		sl.buf, sl.err = buf, nil
		sl.data = buf[sp.off-a0 : sp.off-a0+sp.size]
		n := int32((a1 - a0 + chunkBytes - 1) / chunkBytes)
		sl.left.Store(n)
		s.queue = append(s.queue, pos)
		s.cursor = (pos + 1) % len(s.sched)
		s.stats.SpansRead++
		s.stats.BytesRead += a1 - a0
		s.cond.Broadcast()
		s.mu.Unlock()
		for off := a0; off < a1; off += chunkBytes {
			end := min(off+chunkBytes, a1)
			need := min(end, sp.off+sp.size) - off
			s.jobs <- readJob{p: &sl.pending, buf: buf[off-a0 : end-a0], off: off, need: need}
		}
		s.mu.Lock()
	}
	s.drainLocked()
}

// drainLocked waits for every queued read and frees its staging space.
func (s *Store) drainLocked() {
	for len(s.queue) > 0 {
		pos := s.queue[0]
		s.mu.Unlock()
		<-s.slots[pos].ready
		s.mu.Lock()
		s.queue = s.queue[1:]
		s.staging.free()
	}
}

// reader performs read requests; the last chunk of a span marks it ready.
func (s *Store) reader(jobs <-chan readJob) {
	for j := range jobs {
		start := time.Now()
		from := j.from
		if from == nil {
			from = s
		}
		err := from.readFull(j.buf, j.off, j.need)
		d := time.Since(start)
		s.mu.Lock()
		if err != nil && j.p.err == nil {
			j.p.err = err
		}
		s.stats.ReadBusy += d
		s.mu.Unlock()
		if j.p.left.Add(-1) == 0 {
			j.p.ready <- struct{}{}
		}
	}
}

// acquire returns the bytes of streamed span sp, waiting until they are read.
func (s *Store) acquire(sp *span) []byte {
	start := time.Now()
	s.mu.Lock()
	for {
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			panic(IOError{err})
		}
		idx := -1
		for i, pos := range s.queue {
			if pos == sp.sched {
				idx = i
				break
			}
		}
		if idx == 0 {
			break
		}
		if s.restart < 0 && len(s.queue) > 0 {
			n := len(s.sched)
			if idx > 0 || (sp.sched-s.cursor+n)%n < n/4 {
				// Skip a prefetched span the model did not use (an unselected
				// expert): wait for its read, then free its staging.
				pos := s.queue[0]
				s.mu.Unlock()
				<-s.slots[pos].ready
				s.mu.Lock()
				s.queue = s.queue[1:]
				s.staging.free()
				s.stats.SpansSkipped++
				s.cond.Broadcast()
				continue
			}
			// The model jumped far from the schedule: restart prefetching at sp.
			s.stats.Resyncs++
			s.restart = sp.sched
			s.cond.Broadcast()
		}
		s.cond.Wait()
	}
	sl := &s.slots[sp.sched]
	s.held = sp.sched
	s.mu.Unlock()
	<-sl.ready
	s.mu.Lock()
	s.stats.Wait += time.Since(start)
	if sl.err != nil && s.err == nil {
		s.err = sl.err
	}
	err := s.err
	s.mu.Unlock()
	if err != nil {
		s.release(sp)
		panic(IOError{err})
	}
	return sl.data
}

// release frees the staging space of streamed span sp, which must be the
// oldest in flight.
func (s *Store) release(sp *span) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 || s.queue[0] != sp.sched {
		panic(fmt.Sprintf("tier: release of %s span %d out of order", sp.t.Name, sp.index))
	}
	s.queue = s.queue[1:]
	s.staging.free()
	s.held = -1
	s.cond.Broadcast()
}
