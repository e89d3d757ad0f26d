/* ref_loss_cases.h - reference-kernel cases of runtime/ref/kernels_loss.c, included by
 * test_ref_kernels.c. */

static void test_loss_kernels(void) {
  /* negative_log_likelihood_loss: x [2,3], targets [2,0]. */
  float x[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f}, y[6];
  int64_t t[2] = {2, 0};
  RtTensor in3[3] = {ten(RT_ELEM_F32, D(2, 3), x), ten(RT_ELEM_I64, D(2), t),
                     ten(RT_ELEM_F32, D(3), F32(1, 2, 4))};
  RtTensor vec = ten(RT_ELEM_F32, D(2), y), sc = ten(RT_ELEM_F32, NULL, 0, y);
  CHECK(run(OP_NLL_LOSS, ATTRS(a_str("reduction", "none")), in3, 2, &vec, 1) == RT_OK);
  NEAR(y, 3, 0.5);
  CHECK(run(OP_NLL_LOSS, ATTRS(a_str("reduction", "sum")), in3, 2, &sc, 1) == RT_OK);
  NEAR(y, 3.5);
  CHECK(run(OP_NLL_LOSS, NOATTR, in3, 2, &sc, 1) == RT_OK);
  NEAR(y, 1.75);
  CHECK(run(OP_NLL_LOSS, NOATTR, in3, 3, &sc, 1) == RT_OK);
  NEAR(y, 2.5); /* (3 * 4 + 0.5 * 1) / (4 + 1) */
  CHECK(run(OP_NLL_LOSS, ATTRS(a_int("ignore_index", 2)), in3, 3, &sc, 1) == RT_OK);
  NEAR(y, 0.5);
  t[0] = 3;
  CHECK(run(OP_NLL_LOSS, NOATTR, in3, 2, &sc, 1) == RT_ERANGE);
  CHECK_STR(err, "target 3 is out of range for 3 classes");
  CHECK(run(OP_NLL_LOSS, ATTRS(a_str("reduction", "max")), in3, 2, &sc, 1) == RT_EUNSUPPORTED);
  CHECK_STR(err, "reduction \"max\" is not one of none, sum, mean");

  /* softmax_cross_entropy_loss with its log-probability. */
  float lp[2];
  RtTensor sin[2] = {ten(RT_ELEM_F32, D(1, 2), F32(0, 1.0986123f)),
                     ten(RT_ELEM_I32, D(1), (int32_t[]){0})};
  RtTensor sout[2] = {ten(RT_ELEM_F32, NULL, 0, y), ten(RT_ELEM_F32, D(1, 2), lp)};
  CHECK(run(OP_SCE_LOSS, NOATTR, sin, 2, sout, 2) == RT_OK);
  NEAR(y, 1.3862944);
  NEAR(lp, -1.3862944, -0.2876821);
  CHECK(run(OP_SCE_LOSS, NOATTR, sin, 2, tp(RT_ELEM_F32, D(1), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [1], expected []");

  /* bit_shift */
  uint8_t b[3];
  RtTensor bo = ten(RT_ELEM_U8, D(3), b);
  CHECK(run(OP_BIT_SHIFT, ATTRS(a_str("direction", "LEFT")),
            (RtTensor[]){ten(RT_ELEM_U8, D(3), (uint8_t[]){1, 255, 16}),
                         ten(RT_ELEM_U8, D(1), (uint8_t[]){1})},
            2, &bo, 1) == RT_OK);
  CHECK(b[0] == 2 && b[1] == 254 && b[2] == 32);
  CHECK(run(OP_BIT_SHIFT, ATTRS(a_str("direction", "RIGHT")),
            (RtTensor[]){ten(RT_ELEM_U8, D(3), (uint8_t[]){1, 255, 16}),
                         ten(RT_ELEM_U8, D(3), (uint8_t[]){1, 2, 8})},
            2, &bo, 1) == RT_OK);
  CHECK(b[0] == 0 && b[1] == 63 && b[2] == 0);
  uint64_t u[2];
  CHECK(run(OP_BIT_SHIFT, ATTRS(a_str("direction", "LEFT")),
            (RtTensor[]){ten(RT_ELEM_U64, D(2), (uint64_t[]){3, 3}),
                         ten(RT_ELEM_U64, D(2), (uint64_t[]){63, 64})},
            2, tp(RT_ELEM_U64, D(2), u), 1) == RT_OK);
  CHECK(u[0] == (uint64_t)1 << 63 && u[1] == 0);
  CHECK(run(OP_BIT_SHIFT, ATTRS(a_str("direction", "UP")),
            (RtTensor[]){ten(RT_ELEM_U8, D(3), b), ten(RT_ELEM_U8, D(3), b)}, 2, &bo, 1) ==
        RT_EUNSUPPORTED);
  CHECK_STR(err, "direction \"UP\" is not LEFT or RIGHT");

  /* eye_like */
  int32_t e[6];
  CHECK(run(OP_EYE_LIKE, ATTRS(a_int("k", 1)), tp(RT_ELEM_F32, D(2, 3), x), 1,
            tp(RT_ELEM_I32, D(2, 3), e), 1) == RT_OK);
  CHECK(e[0] == 0 && e[1] == 1 && e[2] == 0 && e[3] == 0 && e[4] == 0 && e[5] == 1);
  CHECK(run(OP_EYE_LIKE, NOATTR, tp(RT_ELEM_F32, D(2, 3), x), 1, tp(RT_ELEM_F32, D(2, 3), y),
            1) == RT_OK);
  NEAR(y, 1, 0, 0, 0, 1, 0);
  CHECK(run(OP_EYE_LIKE, NOATTR, tp(RT_ELEM_F32, D(6), x), 1, tp(RT_ELEM_F32, D(6), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "operand 0 has rank 1, expected 2");

  /* reverse_sequence: time along 0, batch along 1. */
  int32_t rs[8], rx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t lens[2] = {4, 2};
  RtTensor rin[2] = {ten(RT_ELEM_I32, D(4, 2), rx), ten(RT_ELEM_I64, D(2), lens)};
  CHECK(run(OP_REVERSE_SEQUENCE, NOATTR, rin, 2, tp(RT_ELEM_I32, D(4, 2), rs), 1) == RT_OK);
  CHECK(rs[0] == 6 && rs[1] == 3 && rs[2] == 4 && rs[3] == 1 && rs[4] == 2 && rs[5] == 5 &&
        rs[6] == 0 && rs[7] == 7);
  lens[1] = 5;
  CHECK(run(OP_REVERSE_SEQUENCE, NOATTR, rin, 2, tp(RT_ELEM_I32, D(4, 2), rs), 1) == RT_ERANGE);
  CHECK_STR(err, "sequence length 5 is out of range [0, 4]");

  /* dynamic_quantize_linear: ONNX's example. */
  uint8_t q[6], zp = 0;
  float scale = 0;
  RtTensor qout[3] = {ten(RT_ELEM_U8, D(6), q), ten(RT_ELEM_F32, NULL, 0, &scale),
                      ten(RT_ELEM_U8, NULL, 0, &zp)};
  CHECK(run(OP_DYNAMIC_QUANTIZE_LINEAR, NOATTR,
            tp(RT_ELEM_F32, D(6), F32(0, 2, -3, -2.5f, 1.34f, 0.5f)), 1, qout, 3) == RT_OK);
  CHECK(near(scale, 0.019607844) && zp == 153);
  CHECK(q[0] == 153 && q[1] == 255 && q[2] == 0 && q[3] == 26 && q[4] == 221 && q[5] == 179);
  CHECK(run(OP_DYNAMIC_QUANTIZE_LINEAR, NOATTR, tp(RT_ELEM_F32, D(2), F32(0, 0)), 1, qout, 3) ==
        RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [6], expected [2]");

  /* mean_variance_normalization over the default axes [0,2,3]. */
  CHECK(run(OP_MVN, NOATTR, tp(RT_ELEM_F32, D(2, 1, 2, 1), F32(1, 3, 5, 7)), 1,
            tp(RT_ELEM_F32, D(2, 1, 2, 1), y), 1) == RT_OK);
  NEAR(y, -1.3416408, -0.4472136, 0.4472136, 1.3416408);
  CHECK(run(OP_MVN, ATTRS(a_ints("axes", 1)), tp(RT_ELEM_F32, D(2, 2), F32(1, 3, 5, 5)), 1,
            tp(RT_ELEM_F32, D(2, 2), y), 1) == RT_OK);
  NEAR(y, -1, 1, 0, 0);
  CHECK(run(OP_MVN, NOATTR, tp(RT_ELEM_F32, D(2, 2), x), 1, tp(RT_ELEM_F32, D(2, 2), y), 1) ==
        RT_ESHAPE);
  CHECK_STR(err, "axis 2 is out of range for rank 2");

  /* global_lp_pool */
  CHECK(run(OP_GLOBAL_LP_POOL, NOATTR, tp(RT_ELEM_F32, D(1, 2, 2), F32(3, -4, 1, 1)), 1,
            tp(RT_ELEM_F32, D(1, 2, 1), y), 1) == RT_OK);
  NEAR(y, 5, 1.4142136);
  CHECK(run(OP_GLOBAL_LP_POOL, ATTRS(a_int("p", 1)), tp(RT_ELEM_F32, D(1, 2, 2), F32(3, -4, 1, 1)),
            1, tp(RT_ELEM_F32, D(1, 2, 1), y), 1) == RT_OK);
  NEAR(y, 7, 2);
  CHECK(run(OP_GLOBAL_LP_POOL, NOATTR, tp(RT_ELEM_F32, D(1, 2, 2), x), 1,
            tp(RT_ELEM_F32, D(1, 2, 2), y), 1) == RT_ESHAPE);
  CHECK_STR(err, "result 0 has shape [1,2,2], expected [1,2,1]");
}
