/* ref_dyn_cases.h - test_ref_kernels.c's value checks of kernels_dyn.c: shape, size,
 * constant_of_shape, range, expand, tile; included by test_ref_kernels.c (run, ten, tp, D, F32,
 * ATTRS and NEAR are its). */
static void test_dyn(void) {
  float x6[6] = {1, 2, 3, 4, 5, 6};
  int64_t s[4] = {-1, -1, -1, -1};
  CHECK(run(OP_SHAPE, NOATTR, tp(RT_ELEM_F32, D(2, 3), x6), 1, tp(RT_ELEM_I64, D(2), s), 1) ==
        RT_OK);
  CHECK(s[0] == 2 && s[1] == 3);
  CHECK(run(OP_SHAPE, ATTRS(a_int("start", -1)), tp(RT_ELEM_F32, D(2, 3), x6), 1,
            tp(RT_ELEM_I64, D(1), s), 1) == RT_OK);
  CHECK(s[0] == 3);
  CHECK(run(OP_SHAPE, NOATTR, tp(RT_ELEM_F32, D(2, 3), x6), 1, tp(RT_ELEM_I64, D(3), s), 1) ==
        RT_ESHAPE);
  CHECK(run(OP_SIZE, NOATTR, tp(RT_ELEM_U8, D(2, 3), x6), 1, tp(RT_ELEM_I64, NULL, 0, s), 1) ==
        RT_OK);
  CHECK(s[0] == 6);

  /* constant_of_shape: default f32 0, or the value tensor's type. */
  float y[12];
  CHECK(run(OP_CONSTANT_OF_SHAPE, ATTRS(a_ints("shape", 2, 2)), NULL, 0,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, 0, 0, 0, 0);
  int16_t v = -3, h[3] = {0};
  RtTensor vt = ten(RT_ELEM_I16, D(1), &v);
  RtAttr va = {.name = "value", .kind = RT_ATTR_TENSOR, .tensor = &vt};
  CHECK(run(OP_CONSTANT_OF_SHAPE, ATTRS(a_ints("shape", 3), va), NULL, 0,
            tp(RT_ELEM_I16, D(3), h), 1) == RT_OK);
  CHECK(h[0] == -3 && h[1] == -3 && h[2] == -3);
  CHECK(run(OP_CONSTANT_OF_SHAPE, ATTRS(a_ints("shape", 3), va), NULL, 0,
            tp(RT_ELEM_F32, D(3), y), 1) == RT_EUNSUPPORTED);

  /* range: integers and floats, counting down too. */
  int64_t st = 10, lim = 1, d = -3, r[4] = {0};
  RtTensor rin[3] = {ten(RT_ELEM_I64, NULL, 0, &st), ten(RT_ELEM_I64, NULL, 0, &lim),
                     ten(RT_ELEM_I64, NULL, 0, &d)};
  CHECK(run(OP_RANGE, NOATTR, rin, 3, tp(RT_ELEM_I64, D(3), r), 1) == RT_OK);
  CHECK(r[0] == 10 && r[1] == 7 && r[2] == 4);
  CHECK(run(OP_RANGE, NOATTR, rin, 3, tp(RT_ELEM_I64, D(4), r), 1) == RT_ESHAPE);
  float fs = 0.5f, fl = 2.0f, fd = 0.5f;
  RtTensor fin[3] = {ten(RT_ELEM_F32, NULL, 0, &fs), ten(RT_ELEM_F32, NULL, 0, &fl),
                     ten(RT_ELEM_F32, NULL, 0, &fd)};
  CHECK(run(OP_RANGE, NOATTR, fin, 3, tp(RT_ELEM_F32, D(3), y), 1) == RT_OK);
  NEAR(y, 0.5, 1.0, 1.5);
  fd = 0;
  CHECK(run(OP_RANGE, NOATTR, fin, 3, tp(RT_ELEM_F32, D(0), y), 1) == RT_ESHAPE);

  /* expand [3,1] to [2,3,2]; tile [2,3] by [1,2]. */
  float x3[3] = {1, 2, 3};
  CHECK(run(OP_EXPAND, ATTRS(a_ints("shape", 2, 1, 2)), tp(RT_ELEM_F32, D(3, 1), x3), 1,
            tp(RT_ELEM_F32, D(2, 3, 2), y), 1) == RT_OK);
  NEAR(y, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3);
  CHECK(run(OP_EXPAND, ATTRS(a_ints("shape", 2, 2)), tp(RT_ELEM_F32, D(3, 1), x3), 1,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_ESHAPE);
  uint8_t b6[6] = {1, 2, 3, 4, 5, 6}, t12[12];
  CHECK(run(OP_TILE, ATTRS(a_ints("repeats", 1, 2)), tp(RT_ELEM_U8, D(2, 3), b6), 1,
            tp(RT_ELEM_U8, D(2, 6), t12), 1) == RT_OK);
  CHECK(t12[0] == 1 && t12[3] == 1 && t12[5] == 3 && t12[6] == 4 && t12[11] == 6);
  CHECK(run(OP_TILE, ATTRS(a_ints("repeats", 2)), tp(RT_ELEM_U8, D(2, 3), b6), 1,
            tp(RT_ELEM_U8, D(2, 6), t12), 1) == RT_ESHAPE);

  /* reduce_sum with noop_with_empty_axes and no axes: a copy. */
  CHECK(run(OP_REDUCE_SUM, ATTRS(a_int("noop_with_empty_axes", 1)), tp(RT_ELEM_F32, D(2, 3), x6),
            1, tp(RT_ELEM_F32, D(2, 3), y), 1) == RT_OK);
  NEAR(y, 1, 2, 3, 4, 5, 6);
  CHECK(run(OP_REDUCE_SUM, ATTRS(a_int("noop_with_empty_axes", 1), a_ints("axes", 0)),
            tp(RT_ELEM_F32, D(2, 3), x6), 1, tp(RT_ELEM_F32, D(1, 3), y), 1) == RT_OK);
  NEAR(y, 5, 7, 9);

  /* max_pool's indices: flat offsets into X (two planes), row- or column-major spatially. */
  float xp[18] = {1, 9, 3, 4, 5, 6, 7, 8, 2, 1, 9, 3, 4, 5, 6, 7, 8, 2}, yp[8];
  int64_t ip[8];
  RtTensor px = ten(RT_ELEM_F32, D(1, 2, 3, 3), xp);
  RtTensor po[2] = {ten(RT_ELEM_F32, D(1, 2, 2, 2), yp), ten(RT_ELEM_I64, D(1, 2, 2, 2), ip)};
  CHECK(run(OP_MAX_POOL, ATTRS(a_ints("kernel_shape", 2, 2)), &px, 1, po, 2) == RT_OK);
  NEAR(yp, 9, 9, 8, 8, 9, 9, 8, 8);
  CHECK(ip[0] == 1 && ip[1] == 1 && ip[2] == 7 && ip[3] == 7 && ip[4] == 10 && ip[7] == 16);
  CHECK(run(OP_MAX_POOL, ATTRS(a_ints("kernel_shape", 2, 2), a_int("storage_order", 1)), &px, 1,
            po, 2) == RT_OK);
  CHECK(ip[0] == 3 && ip[1] == 3 && ip[2] == 5 && ip[3] == 5 && ip[4] == 12 && ip[7] == 14);
  po[1] = ten(RT_ELEM_I32, D(1, 2, 2, 2), ip);
  CHECK(run(OP_MAX_POOL, ATTRS(a_ints("kernel_shape", 2, 2)), &px, 1, po, 2) ==
        RT_EUNSUPPORTED);

  /* resize cubic [1,2,3,4] x2: result 0 reads taps -2..1; exclude_outside drops the two outside
   * and renormalizes (0.87890625 * 1 - 0.10546875 * 2) / 0.7734375, else they clamp to x[0]. */
  float r8[8];
  CHECK(run(OP_RESIZE, ATTRS(a_str("mode", "cubic"), a_floats("scales", 2), a_int("exclude_outside", 1)),
            tp(RT_ELEM_F32, D(4), F32(1, 2, 3, 4)), 1, tp(RT_ELEM_F32, D(8), r8), 1) == RT_OK);
  CHECK(fabsf(r8[0] - 0.66796875f / 0.7734375f) < 1e-5f);
  CHECK(run(OP_RESIZE, ATTRS(a_str("mode", "cubic"), a_floats("scales", 2)),
            tp(RT_ELEM_F32, D(4), F32(1, 2, 3, 4)), 1, tp(RT_ELEM_F32, D(8), r8), 1) == RT_OK);
  CHECK(fabsf(r8[0] - 0.89453125f) < 1e-5f);
}
