package scenario

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// addressKeys are the keys of an explicit address (AddressSpec decodes
// itself).
var addressKeys = []string{"name", "address1", "city", "province", "postal_code", "country"}

// unknownFields walks a YAML tree along the Go type it decodes into and
// reports every mapping key the type does not have, with its line. The
// decoder's own KnownFields does not reach into types that decode
// themselves (steps, expectations), so the check is done here, once, for
// the whole file.
func unknownFields(file string, n *yaml.Node, t reflect.Type, path string) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode {
		var es Errors
		for _, c := range n.Content {
			es = append(es, unknownFields(file, c, t, path)...)
		}
		return es
	}
	if t == reflect.TypeFor[AddressSpec]() {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var es Errors
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !contains(addressKeys, k.Value) {
				es = append(es, Error{File: file, Line: k.Line, Field: join(path, k.Value),
					Msg: fmt.Sprintf("unknown field %q in an address (%s)", k.Value, strings.Join(addressKeys, ", "))})
			}
		}
		return es
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		var es Errors
		for i, c := range n.Content {
			es = append(es, unknownFields(file, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return es
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var es Errors
		for i := 0; i+1 < len(n.Content); i += 2 {
			es = append(es, unknownFields(file, n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
		}
		return es
	case reflect.Struct:
	default:
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	// Types that parse themselves strictly (config.Policies) or are not
	// mappings of fields (Lines, Count, Duration) are left to their
	// UnmarshalYAML, unless they are our plain structs with a line hook.
	if reflect.PointerTo(t).Implements(unmarshalerType) && t != reflect.TypeFor[Step]() && t != reflect.TypeFor[Expectation]() {
		return nil
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		fields[tag] = f.Type
		names = append(names, tag)
	}
	var es Errors
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			es = append(es, Error{File: file, Line: k.Line, Field: join(path, k.Value),
				Msg: fmt.Sprintf("unknown field %q (known here: %s)", k.Value, strings.Join(names, ", "))})
			continue
		}
		es = append(es, unknownFields(file, v, ft, join(path, k.Value))...)
	}
	return es
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
