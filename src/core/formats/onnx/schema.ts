import type protobuf from 'protobufjs';
import { loadSchema } from '../../protobuf/decode.js';

/**
 * The ONNX messages modelgate reads, written for modelgate from the ONNX IR specification (message names and
 * field numbers are facts of the spec; only the fields the analysis needs are listed, others are skipped as
 * unknown fields). Tensor payloads (raw_data, *_data) are declared so that the decoder can skip them by length.
 */
const ONNX_SCHEMA = `
syntax = "proto2";
package mg.onnx;

message Model {
  optional int64 ir_version = 1;
  repeated OpsetId opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional Graph graph = 7;
  repeated Entry metadata_props = 14;
  repeated TrainingInfo training_info = 20;
  repeated Function functions = 25;
}

message OpsetId {
  optional string domain = 1;
  optional int64 version = 2;
}

message Entry {
  optional string key = 1;
  optional string value = 2;
}

message Graph {
  repeated Node node = 1;
  optional string name = 2;
  repeated Tensor initializer = 5;
  repeated SparseTensor sparse_initializer = 15;
  optional string doc_string = 10;
  repeated ValueInfo input = 11;
  repeated ValueInfo output = 12;
  repeated ValueInfo value_info = 13;
  repeated Entry metadata_props = 16;
}

message ValueInfo {
  optional string name = 1;
  optional string doc_string = 3;
}

message Node {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  optional string overload = 8;
  repeated Attribute attribute = 5;
  optional string doc_string = 6;
  repeated Entry metadata_props = 9;
}

message Attribute {
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional int32 type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional Tensor t = 5;
  optional Graph g = 6;
  optional SparseTensor sparse_tensor = 22;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated Tensor tensors = 10;
  repeated Graph graphs = 11;
  repeated SparseTensor sparse_tensors = 23;
}

message Tensor {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional Segment segment = 3;
  repeated float float_data = 4;
  repeated int32 int32_data = 5;
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7;
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10;
  repeated uint64 uint64_data = 11;
  optional string doc_string = 12;
  repeated Entry external_data = 13;
  optional int32 data_location = 14;
  repeated Entry metadata_props = 16;
}

message Segment {
  optional int64 begin = 1;
  optional int64 end = 2;
}

// The value protos of onnx-ml.proto that the backend test data serializes as test_data_set_*/input_N.pb.
message Sequence {
  optional string name = 1;
  optional int32 elem_type = 2;
  repeated Tensor tensor_values = 3;
  repeated SparseTensor sparse_tensor_values = 4;
  repeated Sequence sequence_values = 5;
  repeated MapValue map_values = 6;
  repeated OptionalValue optional_values = 7;
}

message MapValue {
  optional string name = 1;
  optional int32 key_type = 2;
  repeated int64 keys = 3;
  repeated bytes string_keys = 4;
  optional Sequence values = 5;
}

message OptionalValue {
  optional string name = 1;
  optional int32 elem_type = 2;
  optional Tensor tensor_value = 3;
  optional SparseTensor sparse_tensor_value = 4;
  optional Sequence sequence_value = 5;
  optional MapValue map_value = 6;
  optional OptionalValue optional_value = 7;
}

message SparseTensor {
  optional Tensor values = 1;
  optional Tensor indices = 2;
  repeated int64 dims = 3;
}

message Function {
  optional string name = 1;
  repeated string input = 4;
  repeated string output = 5;
  repeated string attribute = 6;
  repeated Attribute attribute_proto = 11;
  repeated Node node = 7;
  optional string doc_string = 8;
  repeated OpsetId opset_import = 9;
  optional string domain = 10;
  optional string overload = 13;
  repeated Entry metadata_props = 14;
}

message TrainingInfo {
  optional Graph initialization = 1;
  optional Graph algorithm = 2;
  repeated Entry initialization_binding = 3;
  repeated Entry update_binding = 4;
}
`;

type OnnxTypes = Record<
  'Model' | 'Graph' | 'Tensor' | 'Sequence' | 'MapValue' | 'OptionalValue',
  protobuf.Type
>;
let types: Promise<OnnxTypes> | undefined;

/**
 * The schema's message types, parsed and looked up once per process (every ONNX file and probe uses them);
 * the first call loads protobufjs.
 */
export function onnxTypes(): Promise<OnnxTypes> {
  types ??= loadSchema(ONNX_SCHEMA).then((root) => {
    const t = (n: string) => root.lookupType(`mg.onnx.${n}`);
    return {
      Model: t('Model'),
      Graph: t('Graph'),
      Tensor: t('Tensor'),
      Sequence: t('Sequence'),
      MapValue: t('MapValue'),
      OptionalValue: t('OptionalValue'),
    };
  });
  return types;
}

/** Top-level ModelProto field numbers and their wire types (for detection). */
export const MODEL_FIELD_WIRE: ReadonlyMap<number, number> = new Map([
  [1, 0],
  [2, 2],
  [3, 2],
  [4, 2],
  [5, 0],
  [6, 2],
  [7, 2],
  [8, 2],
  [14, 2],
  [20, 2],
  [25, 2],
  [26, 2],
]);

/** GraphProto field numbers and their wire types (for detection). */
export const GRAPH_FIELD_WIRE: ReadonlyMap<number, number> = new Map([
  [1, 2],
  [2, 2],
  [5, 2],
  [10, 2],
  [11, 2],
  [12, 2],
  [13, 2],
  [14, 2],
  [15, 2],
  [16, 2],
]);
