package catalog

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/crossdock/crossdock/internal/connector"
)

// SynthVariant is one variant of a synthetic catalogue.
type SynthVariant struct {
	// Product is the index of the product the variant belongs to.
	Product int
	// Title is the variant title.
	Title   string
	SKU     string
	Barcode string
	Tracked bool
}

// SynthWarehouse is a synthetic warehouse with its item master.
type SynthWarehouse struct {
	ID         string
	Items      []connector.Item
	ExpectsAll bool
	Expected   []string
	OwnsStock  bool
}

// SynthMapping is one row of the hub's mapping: SKU → the inventory item of
// Variants[Variant].
type SynthMapping struct {
	SKU     string
	Variant int
}

// Planted is one defect planted in a synthetic catalogue, and how its
// finding is recognised: same kind, same warehouse when set, and Key among
// the finding's SKUs or entity ids; or, when Variant ≥ 0, the variant's id
// among the entities.
type Planted struct {
	Kind      Kind   `json:"kind"`
	Key       string `json:"key,omitempty"`
	Variant   int    `json:"variant"`
	Warehouse string `json:"warehouse,omitempty"`
}

// Synth is a generated catalogue (Shopify variants, two warehouses' item
// masters, the hub's mapping) with a known set of planted defects.
type Synth struct {
	Products   int
	Variants   []SynthVariant
	Warehouses []SynthWarehouse
	Mapping    []SynthMapping
	Planted    []Planted
}

// PlantsPerRound is the most variants one defect of each kind consumes:
// Synthesize needs n ≥ PlantsPerRound × perKind.
const PlantsPerRound = 10

// Synthesize generates n variants (four per product) that are clean except
// for perKind planted defects of every kind, chosen at random positions
// from seed. Warehouse "east" is expected to stock every SKU and owns its
// stock; "west" is expected to stock the first half of the catalogue and
// does not own stock. Defects are planted in Shopify (empty, duplicate,
// case or space, shared barcode, untracked, renamed) and in the item
// masters (missing item, unknown item, case, shared barcode). perKind 0
// gives a clean catalogue.
func Synthesize(n, perKind int, seed uint64) (*Synth, error) {
	if n < 0 || perKind < 0 {
		return nil, fmt.Errorf("catalog: synthesize: negative size (%d variants, %d per kind)", n, perKind)
	}
	if n < PlantsPerRound*perKind {
		return nil, fmt.Errorf("catalog: synthesize: %d defects of each kind need at least %d variants, have %d", perKind, PlantsPerRound*perKind, n)
	}
	s := &Synth{Products: (n + 3) / 4}
	orig := make([]string, n)
	origBarcode := make([]string, n)
	for k := range n {
		orig[k] = fmt.Sprintf("SKU-%06d", k)
		origBarcode[k] = fmt.Sprintf("2%012d", k)
		s.Variants = append(s.Variants, SynthVariant{Product: k / 4, Title: fmt.Sprintf("Size %d", k%4+1), SKU: orig[k], Barcode: origBarcode[k], Tracked: true})
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	free := rng.Perm(n)
	take := func() int {
		k := free[0]
		free = free[1:]
		return k
	}
	missingEast := map[int]bool{}   // variant → no item in east
	lowerEast := map[int]bool{}     // variant → east spells the code in lower case
	eastBarcode := map[int]string{} // variant → barcode of its east item
	noMapping := map[int]bool{}
	mappedAs := map[int]string{}
	var wmsOnly []connector.Item
	var wmsOnlyWH []string
	plant := func(p Planted) { s.Planted = append(s.Planted, p) }
	for r := range perKind {
		i := take()
		s.Variants[i].SKU = ""
		noMapping[i] = true
		plant(Planted{Kind: KindEmptySKU, Variant: i})

		i, j := take(), take()
		s.Variants[j].SKU = orig[i]
		noMapping[j] = true
		plant(Planted{Kind: KindDuplicateSKU, Key: orig[i], Variant: -1})

		i = take()
		switch r % 3 {
		case 0: // two spellings in Shopify
			j = take()
			s.Variants[j].SKU = strings.ToLower(orig[i])
		case 1: // a trailing space in Shopify, trimmed in the warehouses
			s.Variants[i].SKU = orig[i] + " "
		case 2: // the warehouse spells it in lower case
			lowerEast[i] = true
		}
		plant(Planted{Kind: KindSKUCaseOrSpace, Key: orig[i], Variant: -1})

		i = take()
		missingEast[i] = true
		plant(Planted{Kind: KindSKUUnknownToWarehouse, Key: orig[i], Variant: -1, Warehouse: "east"})

		code := fmt.Sprintf("WMSONLY-%04d", r)
		wh := []string{"east", "west"}[r%2]
		wmsOnly = append(wmsOnly, connector.Item{Code: code, Description: "Item known to the warehouse only",
			Barcodes: []string{fmt.Sprintf("3%012d", r)}, UOM: "EA", PackSize: 1, Active: true})
		wmsOnlyWH = append(wmsOnlyWH, wh)
		plant(Planted{Kind: KindWMSItemUnknownToShopify, Key: code, Variant: -1, Warehouse: wh})

		i, j = take(), take()
		if r%2 == 0 {
			s.Variants[j].Barcode = origBarcode[i] // in Shopify
		} else {
			eastBarcode[j] = origBarcode[i] // in the item master
		}
		plant(Planted{Kind: KindBarcodeOnTwoSKUs, Key: origBarcode[i], Variant: -1})

		i = take()
		s.Variants[i].Tracked = false
		plant(Planted{Kind: KindInventoryNotTracked, Key: orig[i], Variant: -1})

		i = take()
		s.Variants[i].SKU = fmt.Sprintf("RENAMED-%06d", i)
		mappedAs[i] = orig[i]
		plant(Planted{Kind: KindSKURenamedOneSide, Key: orig[i], Variant: -1})
	}

	east := SynthWarehouse{ID: "east", ExpectsAll: true, OwnsStock: true}
	west := SynthWarehouse{ID: "west"}
	seenEast, seenWest := map[string]bool{}, map[string]bool{}
	for k, v := range s.Variants {
		code := strings.TrimSpace(v.SKU)
		if code == "" {
			continue
		}
		item := connector.Item{Code: code, Description: fmt.Sprintf("Product %d %s", v.Product, v.Title),
			Barcodes: []string{origBarcode[k]}, UOM: "EA", PackSize: 1, Active: true}
		if k < n/2 {
			west.Expected = append(west.Expected, v.SKU)
			if !seenWest[code] {
				seenWest[code] = true
				west.Items = append(west.Items, item)
			}
		}
		if missingEast[k] || seenEast[code] {
			continue
		}
		seenEast[code] = true
		if lowerEast[k] {
			item.Code = strings.ToLower(code)
		}
		if bc, ok := eastBarcode[k]; ok {
			item.Barcodes = []string{bc}
		}
		east.Items = append(east.Items, item)
	}
	for r, it := range wmsOnly {
		if wmsOnlyWH[r] == "east" {
			east.Items = append(east.Items, it)
		} else {
			west.Items = append(west.Items, it)
		}
	}
	s.Warehouses = []SynthWarehouse{east, west}
	for k, v := range s.Variants {
		switch {
		case noMapping[k]:
		case mappedAs[k] != "":
			s.Mapping = append(s.Mapping, SynthMapping{SKU: mappedAs[k], Variant: k})
		default:
			s.Mapping = append(s.Mapping, SynthMapping{SKU: v.SKU, Variant: k})
		}
	}
	return s, nil
}

// Scorecard compares findings with planted defects.
type Scorecard struct {
	// Planted and Found count, per kind, the planted defects and those
	// matched by a finding; every kind is present.
	Planted map[Kind]int `json:"planted"`
	Found   map[Kind]int `json:"found"`
	// FalsePositives counts findings that match no planted defect.
	FalsePositives int `json:"false_positives"`
	// Missed are the planted defects no finding matched; Unexpected the
	// findings that matched none.
	Missed     []Planted `json:"missed,omitempty"`
	Unexpected []Finding `json:"unexpected,omitempty"`
}

// Score matches findings to planted defects one to one. variantIDs gives
// the variant id (GID) of each synthetic variant index.
func Score(planted []Planted, findings []Finding, variantIDs []string) Scorecard {
	sc := Scorecard{Planted: map[Kind]int{}, Found: map[Kind]int{}}
	for _, k := range Kinds() {
		sc.Planted[k], sc.Found[k] = 0, 0
	}
	type key struct {
		kind Kind
		id   string
	}
	open := map[key][]int{} // → indexes into planted, unmatched
	for i, p := range planted {
		sc.Planted[p.Kind]++
		id := p.Key
		if p.Variant >= 0 && p.Variant < len(variantIDs) {
			id = variantIDs[p.Variant]
		}
		open[key{p.Kind, id}] = append(open[key{p.Kind, id}], i)
	}
	matched := make([]bool, len(planted))
	for _, f := range findings {
		ids := slices.Clone(f.SKUs)
		for _, e := range f.Entities {
			ids = append(ids, e.ID)
		}
		hit := false
		for _, id := range ids {
			k := key{f.Kind, id}
			for n, pi := range open[k] {
				if w := planted[pi].Warehouse; w != "" && w != f.Warehouse {
					continue
				}
				open[k] = slices.Delete(open[k], n, n+1)
				matched[pi] = true
				hit = true
				break
			}
			if hit {
				break
			}
		}
		if hit {
			sc.Found[f.Kind]++
		} else {
			sc.FalsePositives++
			sc.Unexpected = append(sc.Unexpected, f)
		}
	}
	for i, p := range planted {
		if !matched[i] {
			sc.Missed = append(sc.Missed, p)
		}
	}
	return sc
}

// Input builds the audit input of s directly, with made-up GIDs
// (gid://shopify/ProductVariant/<index>, …/InventoryItem/<index>), for tests
// of the rules without simulators. It returns the variant ids by index.
func (s *Synth) Input() (Input, []string) {
	in := Input{Shop: "synthetic.myshopify.com", Mapping: map[string][]string{}}
	ids := make([]string, len(s.Variants))
	for k, v := range s.Variants {
		ids[k] = fmt.Sprintf("gid://shopify/ProductVariant/%d", k+1)
		in.Variants = append(in.Variants, Variant{ID: ids[k], SKU: v.SKU, Barcode: v.Barcode, Title: v.Title,
			ProductTitle: fmt.Sprintf("Product %d", v.Product), ProductStatus: "ACTIVE",
			InventoryItemID: fmt.Sprintf("gid://shopify/InventoryItem/%d", k+1), Tracked: v.Tracked})
	}
	for _, m := range s.Mapping {
		item := in.Variants[m.Variant].InventoryItemID
		in.Mapping[item] = append(in.Mapping[item], m.SKU)
	}
	for _, w := range s.Warehouses {
		in.Warehouses = append(in.Warehouses, Warehouse{ID: w.ID, HasItemMaster: true, Items: w.Items,
			ExpectsAll: w.ExpectsAll, Expected: w.Expected, OwnsStock: w.OwnsStock})
	}
	return in, ids
}
