import type protobuf from 'protobufjs';
import { loadSchema } from '../../protobuf/decode.js';

/**
 * The TensorFlow messages modelgate reads from `saved_model.pb` and `keras_metadata.pb`, written for modelgate
 * from the field numbers of TensorFlow's protos (saved_model.proto, meta_graph.proto, graph.proto,
 * node_def.proto, attr_value.proto, function.proto, tensor.proto, saved_metadata.proto). Only the fields the
 * analysis needs are declared; maps are declared as their wire-equivalent repeated entry messages.
 */
const TF_SCHEMA = `
syntax = "proto3";
package mg.tf;

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}
message MetaGraphDef {
  MetaInfoDef meta_info_def = 1;
  GraphDef graph_def = 2;
  SaverDef saver_def = 3;
  repeated AssetFileDef asset_file_def = 6;
}
message MetaInfoDef {
  string meta_graph_version = 1;
  repeated string tags = 4;
  string tensorflow_version = 5;
  string tensorflow_git_version = 6;
}
message SaverDef {
  string filename_tensor_name = 1;
  string save_tensor_name = 2;
  string restore_op_name = 3;
}
message AssetFileDef {
  TensorInfo tensor_info = 1;
  string filename = 2;
}
message TensorInfo {
  string name = 1;
}
message GraphDef {
  repeated NodeDef node = 1;
  FunctionDefLibrary library = 2;
}
message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  string device = 4;
  repeated AttrEntry attr = 5;
}
message AttrEntry {
  string key = 1;
  AttrValue value = 2;
}
message AttrValue {
  ListValue list = 1;
  bytes s = 2;
  int64 i = 3;
  float f = 4;
  bool b = 5;
  int32 type = 6;
  TensorProto tensor = 8;
  string placeholder = 9;
  NameAttrList func = 10;
}
message ListValue {
  repeated bytes s = 2;
  repeated int64 i = 3;
  repeated float f = 4;
  repeated bool b = 5;
  repeated int32 type = 6;
  repeated TensorProto tensor = 8;
  repeated NameAttrList func = 9;
}
message NameAttrList {
  string name = 1;
  repeated AttrEntry attr = 2;
}
message TensorProto {
  int32 dtype = 1;
  bytes tensor_content = 4;
  repeated bytes string_val = 8;
}
message FunctionDefLibrary {
  repeated FunctionDef function = 1;
}
message FunctionDef {
  OpDef signature = 1;
  repeated NodeDef node_def = 3;
  repeated AttrEntry attr = 5;
}
message OpDef {
  string name = 1;
  repeated ArgDef input_arg = 2;
  repeated ArgDef output_arg = 3;
}
message ArgDef {
  string name = 1;
}
message SavedMetadata {
  repeated SavedObject nodes = 1;
}
message SavedObject {
  int32 node_id = 2;
  string node_path = 3;
  string identifier = 4;
  string metadata = 5;
}
`;

type TfTypes = { SavedModel: protobuf.Type; SavedMetadata: protobuf.Type };
let types: Promise<TfTypes> | undefined;

/** The schema's message types, parsed and looked up once per process; the first call loads protobufjs. */
export function tfTypes(): Promise<TfTypes> {
  types ??= loadSchema(TF_SCHEMA).then((root) => ({
    SavedModel: root.lookupType('mg.tf.SavedModel'),
    SavedMetadata: root.lookupType('mg.tf.SavedMetadata'),
  }));
  return types;
}
