// Package plan decides where each weight lives when a model does not fit its
// memory budget: which stay resident for the whole run and which stream from
// disk through a staging area just before use. It also holds the cost model
// that predicts the speed of a placement.
//
// Every dense weight is read once per token, so a resident byte saves one byte
// of disk traffic per token whatever tensor it belongs to. The planner
// therefore maximizes resident bytes, subject to keeping a staging area large
// enough for several streamed units in flight (so reads overlap compute).
package plan

import (
	"fmt"
	"sort"
)

// Unit is one placeable piece of weight data, in the order the model uses it.
type Unit struct {
	Name  string
	Bytes int64
}

// Placement is the planner's decision.
type Placement struct {
	// Resident[i] is true when Units[i] is loaded once and held.
	Resident []bool
	// ResidentBytes is the memory held by resident units.
	ResidentBytes int64
	// StreamedBytes is what must be read from disk for every token.
	StreamedBytes int64
	// StagingBytes is the size of the staging area for streamed units.
	StagingBytes int64
	// LargestStreamed is the biggest streamed unit.
	LargestStreamed int64
}

// Depth is how many largest streamed units the staging area holds at least:
// one being computed on while the next ones are read.
const Depth = 3

// DeepDepth is the staging depth used when it costs at most a quarter of the
// weight budget: more reads in flight keep a fast SSD busy (measured: 77% of
// the disk bound at depth 3, 91% at depth 6, on a 4 GB/s device).
const DeepDepth = 6

// stagingFor returns the staging bytes for depth units of largest bytes;
// each unit may need two extra pages for an unaligned start and end.
func stagingFor(largest int64, depth int) int64 {
	if largest == 0 {
		return 0
	}
	per := (largest+4095)/4096*4096 + 2*4096
	return int64(depth) * per
}

// stagingWithin picks the deepest staging for units of largest bytes that
// the budget affords (see DeepDepth).
func stagingWithin(largest, budget int64) int64 {
	if deep := stagingFor(largest, DeepDepth); deep <= budget/4 {
		return deep
	}
	return stagingFor(largest, Depth)
}

// MinBudget returns the smallest weight budget under which units can run at
// all: for some cap c, every unit larger than c resident and the rest
// streamed through a staging area sized for c.
func MinBudget(units []Unit) int64 {
	best := int64(-1)
	for _, c := range units {
		need := stagingFor(c.Bytes, Depth)
		for _, u := range units {
			if u.Bytes > c.Bytes {
				need += u.Bytes
			}
		}
		if best < 0 || need < best {
			best = need
		}
	}
	return max(best, 0)
}

// Place chooses the resident set for a weight budget of budget bytes. A
// budget of zero or below means unlimited: everything is resident.
func Place(units []Unit, budget int64) (Placement, error) {
	p := Placement{Resident: make([]bool, len(units))}
	var total int64
	for _, u := range units {
		total += u.Bytes
	}
	if budget <= 0 || total <= budget {
		for i := range p.Resident {
			p.Resident[i] = true
		}
		p.ResidentBytes = total
		return p, nil
	}
	if min := MinBudget(units); budget < min {
		return p, fmt.Errorf("a weight budget of %s cannot hold the smallest workable placement (%s: resident weights that cannot stream plus staging for the largest that can)", size(budget), size(min))
	}
	// Candidate caps on the largest streamed unit: every distinct size.
	sizes := make([]int64, 0, len(units))
	for _, u := range units {
		sizes = append(sizes, u.Bytes)
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] > sizes[j] })
	// Units by size, descending, for the greedy choice of what to stream.
	bySize := make([]int, len(units))
	for i := range bySize {
		bySize[i] = i
	}
	sort.SliceStable(bySize, func(a, b int) bool { return units[bySize[a]].Bytes > units[bySize[b]].Bytes })

	best := int64(-1)
	var bestStream []bool
	var bestCap, bestStaging int64
	for k, cap := range sizes {
		if k > 0 && cap == sizes[k-1] {
			continue
		}
		staging := stagingWithin(cap, budget)
		need := total + staging - budget // bytes that must stream
		if need <= 0 {
			need = 1 // something must stream or we would have fit
		}
		stream := make([]bool, len(units))
		var got, largest int64
		for _, i := range bySize {
			if got >= need {
				break
			}
			if units[i].Bytes > cap {
				continue
			}
			stream[i] = true
			got += units[i].Bytes
			largest = max(largest, units[i].Bytes)
		}
		if got < need {
			continue
		}
		if best < 0 || got < best {
			best, bestStream, bestCap, bestStaging = got, stream, largest, staging
		}
	}
	if best < 0 {
		return p, fmt.Errorf("no placement fits a weight budget of %s", size(budget))
	}
	for i, s := range bestStream {
		p.Resident[i] = !s
		if s {
			p.StreamedBytes += units[i].Bytes
		} else {
			p.ResidentBytes += units[i].Bytes
		}
	}
	p.LargestStreamed = bestCap
	// The search reserved bestStaging for its cap; the units actually
	// streamed may be smaller, but never take more than was reserved.
	p.StagingBytes = min(stagingWithin(bestCap, budget), bestStaging)
	return p, nil
}

// Hardware is what the cost model needs to know of the machine.
type Hardware struct {
	DiskBW   float64 // bytes per second from disk with direct I/O
	MemBW    float64 // bytes per second of memory read bandwidth (all threads)
	Compute  float64 // multiply-adds per second (not yet used)
	DiskName string
}

// Prediction is the cost model's estimate for one decoded token.
type Prediction struct {
	DiskSeconds    float64 // streamed bytes / disk bandwidth
	ComputeSeconds float64 // all weight bytes / memory bandwidth
	TokS           float64 // 1 / max of the two: I/O and compute overlap
	DiskBoundTokS  float64 // disk bandwidth / streamed bytes
}

// KernelEfficiency is the fraction of the measured memory bandwidth the
// decode kernels reach (measured with ferry bench on TinyLlama-shaped
// models: about half on two threads). The cost model uses it when the
// caller passes no better figure.
const KernelEfficiency = 0.5

// Predict estimates decode speed for a placement where every weight byte
// (resident or streamed) is read by the kernels once per token;
// computeEfficiency is the fraction of hw.MemBW the kernels reach (0 means
// KernelEfficiency).
func Predict(p Placement, hw Hardware, computeEfficiency float64) Prediction {
	var pr Prediction
	total := float64(p.ResidentBytes + p.StreamedBytes)
	if hw.DiskBW > 0 && p.StreamedBytes > 0 {
		pr.DiskSeconds = float64(p.StreamedBytes) / hw.DiskBW
		pr.DiskBoundTokS = hw.DiskBW / float64(p.StreamedBytes)
	}
	if hw.MemBW > 0 {
		eff := computeEfficiency
		if eff <= 0 {
			eff = KernelEfficiency
		}
		pr.ComputeSeconds = total / (hw.MemBW * eff)
	}
	t := max(pr.DiskSeconds, pr.ComputeSeconds)
	if t > 0 {
		pr.TokS = 1 / t
	}
	return pr
}

// size formats a byte count for messages.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}
