package kernels

import "ferry/dtype"

// ActValues returns x as the kernels of type t see it: converted to the
// type's activation form (see act.go) and decoded back to float32.
func ActValues(t dtype.Type, x []float32) []float32 {
	k := lookup(t)
	xq := make([]byte, actBytes(k.act, len(x))+8)
	prepare(k.act, xq, x)
	out := make([]float32, len(x))
	switch k.act {
	case actQ8_0P:
		for i := range out {
			b := xq[q8PairBytes*(i/64):]
			out[i] = f32at(b[128+32*(i%64/32):]) * float32(int8(b[i%64]))
		}
	case actQ8_0:
		for i := range out {
			b := xq[q8Block*(i/32):]
			out[i] = f32at(b) * float32(int8(b[8+i%32]))
		}
	case actQ8_0X:
		for i := range out {
			b := xq[q8Block*(i/32):]
			out[i] = f32at(b[36:]) * float32(int8(b[i%32]))
		}
	case actQ8_K:
		for i := range out {
			b := xq[q8KBlock*(i/256):]
			out[i] = f32at(b) * float32(int8(b[4+i%256]))
		}
	case actQ8_KP:
		for i := range out {
			b := xq[q8KPBlock*(i/256):]
			// Sub-blocks 1<->2 and 5<->6 trade places.
			j := [8]int{0, 2, 1, 3, 4, 6, 5, 7}[i%256/32]*32 + i%32
			out[i] = f32at(b[272:]) * float32(int8(b[j]))
		}
	case actQ8_KB:
		for i := range out {
			b := xq[q8KBBlock*(i/256):]
			v := i % 256
			sb, l := v/32, v%32
			out[i] = f32at(b[2064:]) * float32(int8(b[512*(sb/2)+64*(l/4)+32*(sb%2)+l%4]))
		}
	case actQ8_K6:
		for i := range out {
			b := xq[q8K6Block*(i/256):]
			out[i] = f32at(b[320:]) * float32(int8(b[i%256]))
		}
	case actF16H:
		for i := range out {
			out[i] = F16ToF32(uint16(xq[2*i]) | uint16(xq[2*i+1])<<8)
		}
	case actF16U:
		unorder(out, f32view(xq), 32, f16UScale)
	case actBF16U:
		unorder(out, f32view(xq), 16, 1)
	default:
		copy(out, f32view(xq))
	}
	return out
}

// unorder undoes orderUnpacked(d, n, scale) into out: unpackOrder swaps
// two groups of four, so it is its own inverse.
func unorder(out, d []float32, n int, scale float32) {
	for i := range out {
		if p := i % n; p < 16 && i-p+n <= len(out) {
			out[i] = d[i-p+unpackOrder[p]] / scale
		} else {
			out[i] = d[i]
		}
	}
}

// PortableDot is Dot with the portable kernels, whatever useSIMD chose.
func PortableDot(t dtype.Type, row []byte, x []float32) float32 {
	p, act := portable[t], portableAct[t]
	xq := make([]byte, actBytes(act, len(x)))
	quantizeGo(act, xq, x)
	return p(row, xq)
}

// SetSIMD switches between the accelerated and the portable kernels.
func SetSIMD(on bool) {
	registerPortable()
	if on {
		useSIMD()
	} else {
		simdActive = false
	}
}

// QuantizeBoth returns the prepared activations of x for type t from the
// quantizer in use and from the portable one.
func QuantizeBoth(t dtype.Type, x []float32) (got, want []byte) {
	k := lookup(t)
	got = make([]byte, actBytes(k.act, len(x)))
	want = make([]byte, len(got))
	prepare(k.act, got, x)
	quantizeGo(k.act, want, x)
	return got, want
}

// ActSums returns, for the 32-value activation blocks the Q4_1/Q5_1 dot
// products consume, the stored s (fp16 of d times the sum of the quants).
func ActSums(t dtype.Type, x []float32) []float32 {
	k := lookup(t)
	xq := make([]byte, actBytes(k.act, len(x))+8)
	prepare(k.act, xq, x)
	out := make([]float32, len(x)/32)
	for i := range out {
		out[i] = f32at(xq[q8Block*i+4:])
	}
	return out
}

// Reordered reports whether the SIMD loop in use for t sums in another
// order than the portable kernel (so equals it only within rounding).
func Reordered(t dtype.Type) bool { return reordered[t] }

// Unpack returns the row of cols values held in packed type pt as the bytes
// of the GGUF type it was packed from; for an interleaved type, row is
// whole units, and so is the result.
func Unpack(pt dtype.Type, row []byte, cols int) []byte {
	out := make([]byte, len(row))
	if il, ok := interleavings[pt]; ok {
		nb := cols / il.plain.BlockSize()
		ub := il.unitRows() * nb * il.plain.BlockBytes()
		for at := 0; at < len(row); at += ub {
			il.unpack(out[at:at+ub], row[at:at+ub], nb)
		}
		return out
	}
	panic("Unpack: not a packed type")
}

// Interleaved reports whether t is an interleaved layout (units of 16
// rows, or panelRows for the panelled ones).
func Interleaved(t dtype.Type) bool { _, ok := interleavings[t]; return ok }

// PortableMatVec is MatVec of the rows of cols values in w with the
// portable kernels, whatever useSIMD chose; for an interleaved type, those
// of the plain type on each unit unpacked.
func PortableMatVec(t dtype.Type, w []byte, cols int, x []float32) []float32 {
	k := lookup(t)
	rb := k.rowBytes(cols)
	y := make([]float32, len(w)/rb)
	act := portableAct[t]
	xq := make([]byte, actBytes(act, cols))
	quantizeGo(act, xq, x)
	if il, ok := interleavings[t]; ok {
		unitVec(il.unpack, il.unitRows(), k.blockBytes, portable[il.plain])(y, w, rb*il.unitRows(), xq)
		return y
	}
	for i := range y {
		y[i] = portable[t](w[i*rb:(i+1)*rb], xq)
	}
	return y
}

// Panelled reports whether t is a panelled layout.
func Panelled(t dtype.Type) bool {
	_, ok := interleavings[t]
	return ok && interleavings[t].unitRows() == panelRows
}

// HasPanels reports whether the kernels in use have a panelled layout for
// the GGUF type t (for its rows of more than 2048 values).
func HasPanels(t dtype.Type) bool {
	p := packings[t]
	return p.wide != 0 && packedFast[p.wide]
}

// PackUnpanelled packs w as Pack does, but into the interleaved layout
// of whole rows where Pack would choose the panelled one.
func PackUnpanelled(t dtype.Type, w []byte, cols int) dtype.Type {
	p := packings[t]
	p.wide = 0
	saved := packings[t]
	packings[t] = p
	defer func() { packings[t] = saved }()
	return Pack(t, w, cols)
}
