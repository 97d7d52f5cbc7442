// Conveyor's patch to the v3.68 Python language host (tests/cluster/pulumi_build.py adds this file).
//
// Engines since ~v3.100 no longer fill RunPluginRequest.program/pwd when they run a plugin (a
// Python policy pack) through the language host: they send the directory in the newer `info`
// field (5, a ProgramInfo), which this host's protobuf types do not know. Protobuf keeps unknown
// fields, so read it from there: program_directory (2) becomes the program and its working dir.

package main

import (
	"path/filepath"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
)

func withProgramInfo(req *pulumirpc.RunPluginRequest) *pulumirpc.RunPluginRequest {
	if req.Program != "" {
		return req
	}
	info := field(req.ProtoReflect().GetUnknown(), 5)
	dir := string(field(info, 2))
	if dir == "" {
		return req
	}
	entry := string(field(info, 3))
	if entry == "" {
		entry = "."
	}
	req.Program = filepath.Join(dir, entry)
	req.Pwd = dir
	return req
}

// field returns the bytes of the first length-delimited field `want` in a serialized message.
func field(raw []byte, want protowire.Number) []byte {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil
		}
		raw = raw[n:]
		if num == want && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return nil
			}
			return v
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return nil
		}
		raw = raw[m:]
	}
	return nil
}
