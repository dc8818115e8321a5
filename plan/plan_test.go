package plan

import "testing"

func units(sizes ...int64) []Unit {
	u := make([]Unit, len(sizes))
	for i, s := range sizes {
		u[i] = Unit{Bytes: s}
	}
	return u
}

func TestPlaceUnlimited(t *testing.T) {
	p, err := Place(units(10, 20, 30), 0)
	if err != nil || p.ResidentBytes != 60 || p.StreamedBytes != 0 {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestPlaceStreamsWhatDoesNotFit(t *testing.T) {
	const mb = 1 << 20
	// 20 units of 10 MiB = 200 MiB in a 100 MiB budget.
	var sizes []int64
	for i := 0; i < 20; i++ {
		sizes = append(sizes, 10*mb)
	}
	p, err := Place(units(sizes...), 100*mb)
	if err != nil {
		t.Fatal(err)
	}
	if p.ResidentBytes+p.StagingBytes > 100*mb {
		t.Fatalf("placement exceeds budget: resident %d + staging %d", p.ResidentBytes, p.StagingBytes)
	}
	if p.ResidentBytes+p.StreamedBytes != 200*mb {
		t.Fatalf("bytes lost: %+v", p)
	}
	// Staging for 3 units of 10 MiB leaves room for 6 resident units (60 MiB).
	if p.ResidentBytes != 60*mb {
		t.Fatalf("resident %d MiB, want 60", p.ResidentBytes/mb)
	}
}

func TestPlacePrefersPinningTheGiant(t *testing.T) {
	const mb = 1 << 20
	// One 60 MiB unit and ten 4 MiB units (100 MiB) in 90 MiB: pinning the
	// giant keeps staging small (3 x 4 MiB) and streams less than pinning the
	// small ones would.
	sizes := []int64{60 * mb}
	for i := 0; i < 10; i++ {
		sizes = append(sizes, 4*mb)
	}
	p, err := Place(units(sizes...), 90*mb)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Resident[0] {
		t.Fatalf("giant streamed: %+v", p)
	}
	if p.ResidentBytes+p.StagingBytes > 90*mb {
		t.Fatalf("over budget: %+v", p)
	}
}

func TestPlaceTooSmall(t *testing.T) {
	if _, err := Place(units(100<<20, 100<<20), 50<<20); err == nil {
		t.Fatal("a budget below the staging minimum was accepted")
	}
}

func TestPredict(t *testing.T) {
	p := Placement{ResidentBytes: 1e9, StreamedBytes: 1e9}
	pr := Predict(p, Hardware{DiskBW: 2e9, MemBW: 20e9}, 1)
	if pr.DiskBoundTokS != 2 || pr.TokS != 2 {
		t.Fatalf("%+v", pr)
	}
}
