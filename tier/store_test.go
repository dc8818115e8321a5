package tier

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"

	"ferry/dtype"
	"ferry/gguf"
)

// model writes a GGUF of n F32 matrices of rows x 64, each filled with its index.
func model(t *testing.T, n, rows int) (*gguf.File, []byte) {
	t.Helper()
	var infos []gguf.TensorInfo
	for i := 0; i < n; i++ {
		infos = append(infos, gguf.TensorInfo{Name: string(rune('a' + i)), Shape: []uint64{64, uint64(rows)}, Type: dtype.F32})
	}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, []gguf.KV{{Key: "general.architecture", Value: gguf.String("test")}}, infos)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		w.WriteTensor(bytes.Repeat([]byte{byte(i + 1)}, 64*rows*4))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := gguf.Parse(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return g, buf.Bytes()
}

// TestStreamCycles streams tensors through a ring smaller than the model
// for several passes and checks every span arrives with the right bytes.
func TestStreamCycles(t *testing.T) {
	g, data := model(t, 6, 64) // 6 tensors of 16 KiB
	s, err := Open(bytes.NewReader(data), g, Options{SpanBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sched := s.Tensors()
	p, err := s.Load(sched, 64<<10) // a budget of 64 KiB for 96 KiB of weights
	if err != nil {
		t.Fatal(err)
	}
	if p.StreamedBytes == 0 || p.ResidentBytes+p.StagingBytes > 64<<10 {
		t.Fatalf("placement %+v", p)
	}
	for pass := 0; pass < 5; pass++ {
		for i, tn := range sched {
			for sp := 0; sp < tn.Spans(); sp++ {
				b := tn.Acquire(sp)
				if len(b) != 8<<10 || b[0] != byte(i+1) || b[len(b)-1] != byte(i+1) {
					t.Fatalf("pass %d tensor %d span %d: %d bytes starting %d", pass, i, sp, len(b), b[0])
				}
				tn.Release(sp)
			}
		}
	}
	st := s.Stats()
	if st.BytesRead < 4*p.StreamedBytes || st.Resyncs != 0 {
		t.Fatalf("stats %+v for %d streamed bytes per pass", st, p.StreamedBytes)
	}
	// Leaving the schedule (a jump back) resynchronizes instead of hanging.
	last := sched[len(sched)-1]
	b := last.Acquire(last.Spans() - 1)
	if b[0] != byte(len(sched)) {
		t.Fatalf("after a jump: byte %d", b[0])
	}
	last.Release(last.Spans() - 1)
	row, err := sched[2].Row(5)
	if err != nil || len(row) != 256 || row[0] != 3 {
		t.Fatalf("Row: %v %v", row[:1], err)
	}
}

// failing fails every read that touches [lo, hi) once on is set.
type failing struct {
	r      *bytes.Reader
	lo, hi atomic.Int64
	on     atomic.Bool
}

func (f *failing) ReadAt(p []byte, off int64) (int, error) {
	if f.on.Load() && off < f.hi.Load() && off+int64(len(p)) > f.lo.Load() {
		return 0, errors.New("injected I/O error")
	}
	return f.r.ReadAt(p, off)
}

// TestReadErrorSurfaces checks that a failing read reaches the model as an
// IOError panic (which the engine turns into an error), not a hang.
func TestReadErrorSurfaces(t *testing.T) {
	g, data := model(t, 4, 64)
	src := &failing{r: bytes.NewReader(data)}
	s, err := Open(src, g, Options{SpanBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Load(s.Tensors(), 40<<10); err != nil {
		t.Fatal(err)
	}
	// Break the file under the streamed spans once the resident ones are
	// loaded; the prefetcher's next read of them fails.
	for _, tn := range s.Tensors() {
		for _, sp := range tn.spans {
			if !sp.resident {
				src.lo.Store(sp.off)
				src.hi.Store(sp.off + sp.size)
			}
		}
	}
	src.on.Store(true)
	defer func() {
		r := recover()
		var ioErr IOError
		if e, ok := r.(IOError); ok {
			ioErr = e
		}
		if ioErr.Err == nil {
			t.Fatalf("recovered %v, want an IOError", r)
		}
	}()
	for pass := 0; pass < 3; pass++ {
		for _, tn := range s.Tensors() {
			for sp := 0; sp < tn.Spans(); sp++ {
				tn.Acquire(sp)
				tn.Release(sp)
			}
		}
	}
	t.Fatal("no error surfaced")
}

// TestCutAlignsSpans checks that tensors cut into spans of many rows are
// cut at multiples of spanAlign rows (from the tensor's start, or its
// expert's), with any rows past the last multiple in a span of their own,
// so that a packed layout's units fit whole spans, and that no span
// passes the largest size asked for.
func TestCutAlignsSpans(t *testing.T) {
	for _, c := range []struct {
		typ      dtype.Type
		shape    []int
		maxBytes int64
	}{
		{dtype.Q6_K, []int{2048, 128256}, 16 << 20}, // an output head
		{dtype.Q4_K, []int{2048, 5632}, 1 << 20},
		{dtype.Q4_K, []int{1024, 2816, 8}, 256 << 10}, // experts
		{dtype.Q4_K, []int{256, 1000}, 10 << 10},      // spans too short to align
		{dtype.Q6_K, []int{2048, 32001}, 16 << 20},    // a vocabulary past a multiple of 32
		{dtype.Q4_K, []int{1024, 2820, 4}, 256 << 10},
	} {
		tt := &Tensor{Name: "w", Type: c.typ, Shape: c.shape}
		rows := tt.Rows()
		tt.cut(c.maxBytes)
		group := rows
		if len(c.shape) == 3 {
			group = c.shape[1]
		}
		perSpan := int(c.maxBytes) / tt.RowBytes()
		next := 0
		for _, sp := range tt.spans {
			if sp.row0 != next || sp.row1 <= sp.row0 {
				t.Fatalf("%v: span [%d, %d) after row %d", c.shape, sp.row0, sp.row1, next)
			}
			if sp.row1-sp.row0 > perSpan {
				t.Errorf("%v: span [%d, %d) holds more than %d rows", c.shape, sp.row0, sp.row1, perSpan)
			}
			if perSpan > 4*spanAlign && sp.row0%group%spanAlign != 0 {
				t.Errorf("%v: span starts at row %d, not a multiple of %d in its group", c.shape, sp.row0, spanAlign)
			}
			if n := sp.row1 - sp.row0; perSpan > 4*spanAlign && n%spanAlign != 0 && (n >= spanAlign || sp.row1%group != 0) {
				t.Errorf("%v: span [%d, %d) is neither whole units of %d rows nor its group's last few rows", c.shape, sp.row0, sp.row1, spanAlign)
			}
			if sp.row0/group != (sp.row1-1)/group {
				t.Errorf("%v: span [%d, %d) crosses an expert", c.shape, sp.row0, sp.row1)
			}
			next = sp.row1
		}
		if next != rows {
			t.Errorf("%v: spans end at row %d of %d", c.shape, next, rows)
		}
	}
}
