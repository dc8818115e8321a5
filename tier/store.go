package tier

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"ferry/gguf"
	"ferry/plan"
)

// directAlign is the alignment of offsets, lengths and buffers for O_DIRECT.
const directAlign = 4096

// chunkBytes is the size of one read request; several are in flight at once.
const chunkBytes = 4 << 20

// Options configures a Store.
type Options struct {
	// SpanBytes is the largest span a tensor is cut into (default 16 MiB).
	SpanBytes int64
	// Readers is the number of reads kept in flight (default 4).
	Readers int
	// NoDirect disables O_DIRECT (reads then go through the page cache,
	// which is told to drop them).
	NoDirect bool
}

// Store holds the tensors of one model file and moves their bytes.
type Store struct {
	opts    Options
	src     io.ReaderAt
	file    *os.File // nil for an in-memory source
	direct  bool
	tensors map[string]*Tensor
	order   []*Tensor

	arena     []byte // resident spans
	mapped    []byte // the whole file, when opened with OpenMmap
	placement plan.Placement
	rowBuf    []byte

	// streaming state
	sched   []*span
	slots   []slot
	staging ring
	jobs    chan readJob
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []int // schedule positions in flight, oldest first
	cursor  int   // next schedule position to prefetch
	restart int   // schedule position to restart at, or -1
	held    int   // schedule position acquired and not yet released, or -1
	closed  bool
	err     error
	wg      sync.WaitGroup

	stats Stats
	pool  *ExpertPool
}

// slot is the in-flight state of one schedule position.
type slot struct {
	buf  []byte // the aligned read buffer in the staging ring
	data []byte // the span's bytes within buf
	pending
}

// pending tracks the read requests of one load; the last to finish marks
// it ready.
type pending struct {
	left  atomic.Int32
	ready chan struct{}
	err   error // set under Store.mu
}

type readJob struct {
	from *Store // the file to read; nil for the reader's own store
	p    *pending
	buf  []byte
	off  int64
	need int64 // bytes that must arrive; the rest may lie past the end of file
}

// Stats counts what the store has moved. All fields only grow.
type Stats struct {
	BytesRead    int64         // bytes read from the model file while streaming
	SpansRead    int64         // streamed spans read
	SpansSkipped int64         // prefetched spans the model did not use
	Resyncs      int64         // times the model left the schedule and prefetch restarted
	Wait         time.Duration // time the model spent waiting for streamed bytes
	ReadBusy     time.Duration // summed duration of read requests
	RowReads     int64         // rows read singly (embedding lookups)
}

// Open indexes the tensors of the model file src whose parsed header is g.
// No weight is read until Load.
func Open(src io.ReaderAt, g *gguf.File, opts Options) (*Store, error) {
	if opts.SpanBytes <= 0 {
		opts.SpanBytes = 16 << 20
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	s := &Store{opts: opts, src: src, tensors: make(map[string]*Tensor, len(g.Tensors)), restart: -1, held: -1}
	s.cond = sync.NewCond(&s.mu)
	for _, ti := range g.Tensors {
		t := &Tensor{Name: ti.Name, Type: ti.Type, Offset: ti.Offset, Size: ti.Size, store: s}
		for _, d := range ti.Shape {
			t.Shape = append(t.Shape, int(d))
		}
		t.cut(opts.SpanBytes)
		s.tensors[t.Name] = t
		s.order = append(s.order, t)
	}
	return s, nil
}

// OpenFile is Open for the model file at path, read with O_DIRECT where the
// file system allows it.
func OpenFile(path string, g *gguf.File, opts Options) (*Store, error) {
	var f *os.File
	var direct bool
	var err error
	if opts.NoDirect {
		f, err = os.Open(path)
	} else {
		f, direct, err = openDirect(path)
	}
	if err != nil {
		return nil, err
	}
	s, err := Open(f, g, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file, s.direct = f, direct
	return s, nil
}

// Direct reports whether reads bypass the page cache.
func (s *Store) Direct() bool { return s.direct }

// Tensor returns the tensor named name, or nil.
func (s *Store) Tensor(name string) *Tensor { return s.tensors[name] }

// Tensors returns every tensor in file order.
func (s *Store) Tensors() []*Tensor { return s.order }

// ReadTensor reads the whole of t into a new buffer, whatever its residency.
// It is for small tensors copied at load time (norms, biases).
func (s *Store) ReadTensor(t *Tensor) ([]byte, error) {
	if t.Size > 64<<20 {
		return nil, fmt.Errorf("tier: %s is too large (%d bytes) to read whole", t.Name, t.Size)
	}
	buf := make([]byte, t.Size)
	if s.direct {
		return s.readAligned(buf, t.Offset)
	}
	if err := s.readFull(buf, t.Offset, t.Size); err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.Name, err)
	}
	return buf, nil
}

// readAligned fills dst with the bytes at off using aligned direct reads.
func (s *Store) readAligned(dst []byte, off int64) ([]byte, error) {
	a0 := off &^ (directAlign - 1)
	a1 := (off + int64(len(dst)) + directAlign - 1) &^ (directAlign - 1)
	tmp, err := allocAligned(int(a1 - a0))
	if err != nil {
		return nil, err
	}
	defer freeAligned(tmp)
	if err := s.readFull(tmp, a0, off+int64(len(dst))-a0); err != nil {
		return nil, err
	}
	copy(dst, tmp[off-a0:])
	return dst, nil
}

// readFull reads into buf from off, accepting a short read at end of file as
// long as the first need bytes arrived.
func (s *Store) readFull(buf []byte, off, need int64) error {
	var got int64
	for got < int64(len(buf)) {
		n, err := s.src.ReadAt(buf[got:], off+got)
		got += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) && got >= need {
				return nil
			}
			return fmt.Errorf("tier: read at %d: %w", off+got, err)
		}
		if n == 0 {
			return fmt.Errorf("tier: read at %d made no progress", off+got)
		}
	}
	if !s.direct && s.file != nil {
		dropCache(s.file, off, int64(len(buf)))
	}
	return nil
}

// readRow reads n bytes at off into the store's row buffer.
func (s *Store) readRow(off int64, n int) ([]byte, error) {
	a0 := off &^ (directAlign - 1)
	a1 := (off + int64(n) + directAlign - 1) &^ (directAlign - 1)
	if int64(len(s.rowBuf)) < a1-a0 {
		freeAligned(s.rowBuf)
		b, err := allocAligned(int(a1 - a0))
		if err != nil {
			return nil, err
		}
		s.rowBuf = b
	}
	buf := s.rowBuf[:a1-a0]
	if err := s.readFull(buf, a0, off+int64(n)-a0); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.stats.RowReads++
	s.mu.Unlock()
	return buf[off-a0 : off-a0+int64(n)], nil
}

// RowBufferBytes is the memory Row needs for rows of n bytes.
func RowBufferBytes(n int) int64 { return int64((n + 2*directAlign - 1) &^ (directAlign - 1)) }

// Units returns the spans of schedule as placement units, in order.
func Units(schedule []*Tensor) []plan.Unit {
	var u []plan.Unit
	for _, t := range schedule {
		for _, sp := range t.spans {
			u = append(u, plan.Unit{Name: fmt.Sprintf("%s[%d:%d]", t.Name, sp.row0, sp.row1), Bytes: sp.size})
		}
	}
	return u
}

// Load places the spans of schedule, the weights the model uses for every
// token in the order it uses them, within budget bytes (resident spans plus
// the staging ring; zero or less holds everything resident): it reads the
// resident spans and starts prefetching the streamed ones. Tensors outside
// the schedule are never held (embeddings are read a row at a time).
func (s *Store) Load(schedule []*Tensor, budget int64) (plan.Placement, error) {
	units := Units(schedule)
	if s.mapped != nil {
		// Everything is "resident" in the mapping; the page cache decides.
		p, _ := plan.Place(units, 0)
		s.placement = p
		for _, t := range s.order {
			for _, sp := range t.spans {
				sp.data = s.mapped[sp.off : sp.off+sp.size : sp.off+sp.size]
				sp.resident = true
			}
		}
		return p, nil
	}
	p, err := plan.Place(units, budget)
	if err != nil {
		return p, err
	}
	s.placement = p
	var spans []*span
	for _, t := range schedule {
		spans = append(spans, t.spans...)
	}
	var residentBytes int64
	for i, sp := range spans {
		if p.Resident[i] {
			residentBytes += (sp.size + 63) &^ 63
		}
	}
	if s.arena, err = allocAligned(int(residentBytes)); err != nil {
		return p, fmt.Errorf("tier: cannot allocate %d MiB for resident weights: %w", residentBytes>>20, err)
	}
	var at int64
	for i, sp := range spans {
		if !p.Resident[i] {
			sp.sched = len(s.sched)
			s.sched = append(s.sched, sp)
			continue
		}
		sp.data = s.arena[at : at+sp.size : at+sp.size]
		at += (sp.size + 63) &^ 63
	}
	if err := s.loadResident(spans, p.Resident); err != nil {
		return p, err
	}
	for i, sp := range spans {
		sp.resident = p.Resident[i]
	}
	if len(s.sched) > 0 {
		if err := s.startStreaming(p.StagingBytes); err != nil {
			return p, err
		}
	}
	return p, nil
}

// ResidentMemory returns the memory that holds the resident spans, one
// block (empty when nothing is resident). It is for measurements that must
// read the very pages decode reads, such as the memory-bandwidth samples
// ferry bench takes between decode steps; callers must not write to it, and
// it is freed by Close.
func (s *Store) ResidentMemory() []byte { return s.arena }

// Placement returns the plan Load followed.
func (s *Store) Placement() plan.Placement { return s.placement }

// loadResident reads every resident span, several reads at a time.
func (s *Store) loadResident(spans []*span, resident []bool) error {
	jobs := make(chan *span)
	errc := make(chan error, s.opts.Readers)
	var wg sync.WaitGroup
	for w := 0; w < s.opts.Readers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tmp []byte
			defer func() { freeAligned(tmp) }()
			for sp := range jobs {
				if !s.direct {
					if err := s.readFull(sp.data, sp.off, sp.size); err != nil {
						errc <- err
						return
					}
					continue
				}
				// Direct reads need aligned buffers: stage through tmp in chunks.
				for done := int64(0); done < sp.size; {
					n := min(sp.size-done, chunkBytes)
					off := sp.off + done
					a0 := off &^ (directAlign - 1)
					a1 := (off + n + directAlign - 1) &^ (directAlign - 1)
					if int64(len(tmp)) < a1-a0 {
						freeAligned(tmp)
						var err error
						if tmp, err = allocAligned(chunkBytes + 2*directAlign); err != nil {
							errc <- err
							return
						}
					}
					if err := s.readFull(tmp[:a1-a0], a0, off+n-a0); err != nil {
						errc <- err
						return
					}
					copy(sp.data[done:done+n], tmp[off-a0:])
					done += n
				}
			}
		}()
	}
	var err error
feed:
	for i, sp := range spans {
		if !resident[i] {
			continue
		}
		select {
		case jobs <- sp:
		case err = <-errc:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// Close stops streaming and releases the store's memory and file.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
	if s.pool != nil {
		s.pool.close()
	}
	if s.jobs != nil {
		close(s.jobs)
		s.jobs = nil
	}
	for _, t := range s.order {
		for _, sp := range t.spans {
			sp.data = nil
		}
	}
	if s.mapped != nil {
		unmap(s.mapped)
		s.mapped = nil
	}
	freeAligned(s.arena)
	freeAligned(s.staging.buf)
	freeAligned(s.rowBuf)
	s.arena, s.staging.buf, s.rowBuf = nil, nil, nil
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Sub returns the counts in s that are not in earlier.
func (s Stats) Sub(earlier Stats) Stats {
	return Stats{
		BytesRead:    s.BytesRead - earlier.BytesRead,
		SpansRead:    s.SpansRead - earlier.SpansRead,
		SpansSkipped: s.SpansSkipped - earlier.SpansSkipped,
		Resyncs:      s.Resyncs - earlier.Resyncs,
		Wait:         s.Wait - earlier.Wait,
		ReadBusy:     s.ReadBusy - earlier.ReadBusy,
		RowReads:     s.RowReads - earlier.RowReads,
	}
}
