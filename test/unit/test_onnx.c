/* test_onnx.c - the ONNX importer on models built as bytes with the generated protobuf-c structs:
 * the IR it builds, every prefix truncation of a valid model rejected without a crash (ASan),
 * shape-override parsing, and fe_onnx_read_tensor_file on a packed TensorProto. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend/onnx/onnx_import.h"
#include "onnx/onnx.pb-c.h"

static FILE *sink;

static Onnx__ValueInfoProto *value_info(const char *name, int rank, const int64_t *dims,
                                        const char *param0) {
  Onnx__ValueInfoProto *vi = calloc(1, sizeof *vi);
  Onnx__TypeProto *tp = calloc(1, sizeof *tp);
  Onnx__TypeProto__Tensor *tt = calloc(1, sizeof *tt);
  Onnx__TensorShapeProto *sh = calloc(1, sizeof *sh);
  onnx__value_info_proto__init(vi);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(sh);
  sh->n_dim = (size_t)rank;
  sh->dim = calloc((size_t)rank, sizeof *sh->dim);
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = calloc(1, sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (i == 0 && param0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = (char *)param0;
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    }
    sh->dim[i] = d;
  }
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sh;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->name = (char *)name;
  vi->type = tp;
  return vi;
}

static void value_info_free(Onnx__ValueInfoProto *vi) {
  Onnx__TensorShapeProto *sh = vi->type->tensor_type->shape;
  for (size_t i = 0; i < sh->n_dim; i++)
    free(sh->dim[i]);
  free(sh->dim);
  free(sh);
  free(vi->type->tensor_type);
  free(vi->type);
  free(vi);
}

/* x:f32[batch,3] + w:f32[3] (float_data) -> Relu (node "r1") -> y; packed into *len bytes. */
static uint8_t *small_model(size_t *len, int64_t opset) {
  static const int64_t xd[] = {0, 3};
  static float wv[] = {1, 2, 3};
  static int64_t wd[] = {3};
  Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT;
  w.name = "w";
  w.has_data_type = 1;
  w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  w.n_dims = 1;
  w.dims = wd;
  w.n_float_data = 3;
  w.float_data = wv;
  Onnx__TensorProto *inits[] = {&w};
  Onnx__NodeProto add = ONNX__NODE_PROTO__INIT, relu = ONNX__NODE_PROTO__INIT;
  char *add_in[] = {"x", "w"}, *add_out[] = {"a"}, *relu_in[] = {"a"}, *relu_out[] = {"y"};
  add.op_type = "Add";
  add.n_input = 2, add.input = add_in, add.n_output = 1, add.output = add_out;
  relu.op_type = "Relu";
  relu.name = "r1";
  relu.n_input = 1, relu.input = relu_in, relu.n_output = 1, relu.output = relu_out;
  Onnx__NodeProto *nodes[] = {&add, &relu};
  Onnx__ValueInfoProto *in = value_info("x", 2, xd, "batch"), *out = value_info("y", 0, NULL, NULL);
  Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
  g.name = "small";
  g.n_node = 2, g.node = nodes;
  g.n_initializer = 1, g.initializer = inits;
  g.n_input = 1, g.input = &in;
  g.n_output = 1, g.output = &out;
  Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  os.domain = "";
  os.has_version = 1;
  os.version = opset;
  Onnx__OperatorSetIdProto *oss[] = {&os};
  Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
  m.has_ir_version = 1;
  m.ir_version = 8;
  m.n_opset_import = 1;
  m.opset_import = oss;
  m.graph = &g;
  *len = onnx__model_proto__get_packed_size(&m);
  uint8_t *buf = malloc(*len);
  onnx__model_proto__pack(&m, buf);
  value_info_free(in);
  value_info_free(out);
  return buf;
}

static Module *import(const uint8_t *b, size_t n, Diag *d) {
  ir_diag_init(d, "small.onnx", NULL, 0);
  d->out = sink;
  return fe_onnx_import(b, n, "small.onnx", NULL, NULL, d);
}

static void test_import(void) {
  size_t len;
  uint8_t *b = small_model(&len, 13);
  Diag d;
  Module *m = import(b, len, &d);
  CHECK(m != NULL);
  if (m) {
    CHECK(ir_verify(m, &d) == 0);
    CHECK_STR(m->name, "small");
    CHECK(m->ninputs == 1 && m->nweights == 1);
    CHECK(m->inputs[0]->type.dims[0] == IR_DIM_N && m->inputs[0]->type.dims[1] == 3);
    Value *y = ir_lookup_value(m, '%', "y");
    CHECK(y && y->def && y->def->kind == OP_RELU);
    CHECK(y && y->def && y->def->sym && !strcmp(y->def->sym, "r1"));
    CHECK(y && ir_type_numel_per_item(&y->type) == 3);
    Value *w = ir_lookup_value(m, '$', "w");
    CHECK(w && w->tensor && w->tensor->nbytes == 12 && ((float *)w->tensor->data)[2] == 3.0f);
    Op *out = ir_module_output(m);
    CHECK(out && out->noperands == 1 && out->operands[0].value == y);
    ir_module_free(m);
  }
  free(b);
}

static void test_opset_range(void) {
  size_t len;
  uint8_t *b = small_model(&len, 22);
  Diag d;
  CHECK(import(b, len, &d) == NULL && d.nerrors == 1);
  free(b);
  b = small_model(&len, 7);
  Module *m = import(b, len, &d);
  CHECK(m != NULL);
  ir_module_free(m);
  free(b);
}

/* Every proper prefix is rejected or imports into a module that verifies: never a crash. */
static void test_truncations(void) {
  size_t len;
  uint8_t *b = small_model(&len, 13);
  int rejected = 0, one_line = 1;
  for (size_t n = 0; n < len; n++) {
    uint8_t *copy = malloc(n + 1); /* exact size: ASan sees any overread */
    memcpy(copy, b, n);
    Diag d;
    Module *m = import(copy, n, &d);
    if (!m) {
      rejected++;
      one_line &= d.nerrors == 1;
    } else {
      CHECK(ir_verify(m, &d) == 0);
      ir_module_free(m);
    }
    free(copy);
  }
  CHECK(rejected == (int)len);
  CHECK(one_line);
  free(b);
}

static void test_shape_override(void) {
  FeShapeOverride o;
  char err[256];
  CHECK(fe_parse_shape_override("x=1x3x640x640", &o, err, sizeof err));
  CHECK_STR(o.name, "x");
  CHECK(o.rank == 4 && o.dims[0] == 1 && o.dims[3] == 640);
  free((char *)o.name);
  CHECK(fe_parse_shape_override("a=b=Nx2", &o, err, sizeof err));
  CHECK_STR(o.name, "a=b");
  CHECK(o.rank == 2 && o.dims[0] == IR_DIM_N);
  free((char *)o.name);
  CHECK(fe_parse_shape_override("s=", &o, err, sizeof err) && o.rank == 0);
  free((char *)o.name);
  CHECK(!fe_parse_shape_override("x", &o, err, sizeof err));
  CHECK(!fe_parse_shape_override("x=1x", &o, err, sizeof err));
  CHECK(!fe_parse_shape_override("x=1x-3", &o, err, sizeof err));
  CHECK(!fe_parse_shape_override("x=99999999999", &o, err, sizeof err));
  CHECK(!fe_parse_shape_override("x=1x1x1x1x1x1x1x1x1", &o, err, sizeof err));
}

static void test_read_tensor(void) {
  int64_t dims[] = {2, 2};
  uint8_t raw[8] = {1, 0, 2, 0, 3, 0, 4, 0};
  Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
  t.name = "t0";
  t.has_data_type = 1;
  t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT16;
  t.n_dims = 2, t.dims = dims;
  t.has_raw_data = 1;
  t.raw_data.len = sizeof raw, t.raw_data.data = raw;
  size_t len = onnx__tensor_proto__get_packed_size(&t);
  uint8_t *buf = malloc(len);
  onnx__tensor_proto__pack(&t, buf);
  char path[] = "/tmp/kiln_test_onnx_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "wb");
  fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
  Module *m = ir_module_new(NULL);
  Tensor out;
  const char *name = NULL;
  Diag d;
  ir_diag_init(&d, path, NULL, 0);
  d.out = sink;
  CHECK(fe_onnx_read_tensor_file(path, m, &out, &name, &d));
  CHECK_STR(name, "t0");
  CHECK(out.type.dtype == DT_I16 && out.type.rank == 2 && out.nbytes == 8);
  CHECK(out.data && memcmp(out.data, raw, 8) == 0);
  /* A raw_data size that disagrees with the dims is refused. */
  t.raw_data.len = 6;
  len = onnx__tensor_proto__get_packed_size(&t);
  buf = malloc(len);
  onnx__tensor_proto__pack(&t, buf);
  f = fopen(path, "wb");
  fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
  CHECK(!fe_onnx_read_tensor_file(path, m, &out, &name, &d) && d.nerrors == 1);
  remove(path);
  ir_module_free(m);
}

int main(void) {
  sink = fopen("/dev/null", "w");
  test_import();
  test_opset_range();
  test_truncations();
  test_shape_override();
  test_read_tensor();
  fclose(sink);
  return check_finish();
}
