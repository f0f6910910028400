// findstroke_jpeg: JPEG files decoded by libjpeg-turbo on libuv's thread pool, already shrunk.
// libjpeg scales while it decodes (scale_num/8: the inverse DCT of ITU-T T.81 computed on fewer
// points), so a 650 px CT slice wanted at a 256 px short side is decoded at 325 px for a fraction of a
// full decode, then resampled to exactly 256 px; sharp's per-image pipeline costs about four times as much
// for the same file, which on two cores starves training of the CPU while the loader's cache fills.
//
// decodeJpeg(path, shortSide) resolves to
//   null                                  when the file is not a JPEG (no SOI marker),
//   {width, height, channels, data}       short side `shortSide` (aspect kept; smaller images are not
//                                         enlarged), channel-first 8-bit samples: 1 channel for
//                                         greyscale JPEGs and for YCbCr ones whose chroma is neutral
//                                         everywhere (a grey slice saved as colour: R = G = B = Y
//                                         exactly), else 3 (RGB);
// and rejects for files libjpeg cannot decode or that end early (truncated), so that the caller can
// hand them to its general decoder for the final word.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <fstream>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>  // message codes: JWRN_JPEG_EOF

namespace {

struct Decoded {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;  // channel-first
};

struct ErrorManager {
  jpeg_error_mgr base;
  jmp_buf jump;
  bool truncated = false;
  char message[JMSG_LENGTH_MAX] = "";
};

void onError(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  longjmp(errors->jump, 1);
}

// Warnings (level -1) are tolerated as sharp's failOn 'truncated' tolerates them, except the one that
// says the data ended early: libjpeg pads such a file with grey and carries on.
void onMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) errors->truncated = true;
  cinfo->err->num_warnings++;
}

// The smallest scale M/8 that keeps the short side at least `wanted` (M = 8: full size, never enlarged).
unsigned scaleNumerator(unsigned shortest, unsigned wanted) {
  for (unsigned m = 1; m < 8; m++)
    if ((shortest * m + 7) / 8 >= wanted) return m;
  return 8;
}

// One decode of `bytes` into interleaved rows; returns an error message, empty on success.
// No C++ object with a destructor may be created between setjmp and a longjmp to it.
std::string decodeRows(const std::vector<uint8_t>& bytes, unsigned shortSide, J_COLOR_SPACE wanted,
                       std::vector<uint8_t>& rows, int& width, int& height, int& components, J_COLOR_SPACE& got) {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  cinfo.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = onError;
  errors.base.emit_message = onMessage;
  jpeg_create_decompress(&cinfo);
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return errors.message;
  }
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  got = wanted != JCS_UNKNOWN                                     ? wanted
        : cinfo.num_components == 1                              ? JCS_GRAYSCALE
        : cinfo.jpeg_color_space == JCS_YCbCr                    ? JCS_YCbCr
                                                                 : JCS_RGB;
  cinfo.out_color_space = got;
  cinfo.scale_num = scaleNumerator(std::min(cinfo.image_width, cinfo.image_height), shortSide);
  cinfo.scale_denom = 8;
  jpeg_start_decompress(&cinfo);
  width = cinfo.output_width;
  height = cinfo.output_height;
  components = cinfo.output_components;
  rows.resize(size_t(width) * height * components);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = rows.data() + size_t(cinfo.output_scanline) * width * components;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return errors.truncated ? "premature end of JPEG data (truncated file)" : "";
}

// Interleaved rows into channel planes. Neutral colour (Cb = Cr = 128 for YCbCr, R = G = B for RGB)
// keeps one plane, exactly the grey every channel holds; returns false for YCbCr with colour, which the
// caller decodes again as RGB.
bool toPlanes(const std::vector<uint8_t>& rows, int width, int height, int components, J_COLOR_SPACE space, Decoded& out) {
  const size_t pixels = size_t(width) * height;
  auto neutral = [&](size_t i) {
    return space == JCS_YCbCr ? rows[3 * i + 1] == 128 && rows[3 * i + 2] == 128 : rows[3 * i + 1] == rows[3 * i] && rows[3 * i + 2] == rows[3 * i];
  };
  bool grey = components == 1;
  if (components == 3) {
    size_t i = 0;
    while (i < pixels && neutral(i)) i++;
    grey = i == pixels;
  }
  if (!grey && space == JCS_YCbCr) return false;
  out.width = width;
  out.height = height;
  out.channels = grey ? 1 : components;
  out.data.resize(pixels * out.channels);
  for (int c = 0; c < out.channels; c++)
    for (size_t i = 0; i < pixels; i++) out.data[c * pixels + i] = rows[components * i + c];
  return true;
}

// Which source samples make each output sample along one axis, and how much each weighs: a triangle
// widened by the shrink factor (the antialiased "linear" of PIL and libvips), edges clamped.
struct AxisTaps {
  std::vector<int> first;  // first tap of each output, into index/weight; first[outputs] = end
  std::vector<int> index;
  std::vector<float> weight;
};

AxisTaps axisTaps(int inputs, int outputs) {
  AxisTaps taps;
  const double scale = double(inputs) / outputs, support = std::max(scale, 1.0);
  for (int o = 0; o < outputs; o++) {
    taps.first.push_back(int(taps.index.size()));
    const double centre = (o + 0.5) * scale;
    double total = 0;
    for (int i = int(std::floor(centre - support)); i <= int(std::ceil(centre + support)); i++) {
      const double w = 1 - std::abs(i + 0.5 - centre) / support;
      if (w <= 0) continue;
      taps.index.push_back(std::clamp(i, 0, inputs - 1));
      taps.weight.push_back(float(w));
      total += w;
    }
    for (size_t k = taps.first.back(); k < taps.index.size(); k++) taps.weight[k] = float(taps.weight[k] / total);
  }
  taps.first.push_back(int(taps.index.size()));
  return taps;
}

// Shrinks every plane of `image` so that its short side is `shortSide` (no-op when it already is).
void shrinkTo(Decoded& image, unsigned shortSide) {
  const int shortest = std::min(image.width, image.height);
  if (shortest <= int(shortSide)) return;
  const double ratio = double(shortSide) / shortest;
  const int width = std::max(1, int(std::lround(image.width * ratio))), height = std::max(1, int(std::lround(image.height * ratio)));
  const AxisTaps across = axisTaps(image.width, width), down = axisTaps(image.height, height);
  std::vector<uint8_t> out(size_t(width) * height * image.channels);
  std::vector<float> rows(size_t(image.width) * height);  // the vertical pass, then the horizontal one
  for (int c = 0; c < image.channels; c++) {
    const uint8_t* plane = image.data.data() + size_t(c) * image.width * image.height;
    std::fill(rows.begin(), rows.end(), 0.f);
    for (int y = 0; y < height; y++)
      for (int k = down.first[y]; k < down.first[y + 1]; k++) {
        const uint8_t* src = plane + size_t(down.index[k]) * image.width;
        float* dst = rows.data() + size_t(y) * image.width;
        for (int x = 0; x < image.width; x++) dst[x] += down.weight[k] * src[x];
      }
    uint8_t* dst = out.data() + size_t(c) * width * height;
    for (int y = 0; y < height; y++)
      for (int x = 0; x < width; x++) {
        float sum = 0;
        for (int k = across.first[x]; k < across.first[x + 1]; k++) sum += across.weight[k] * rows[size_t(y) * image.width + across.index[k]];
        dst[size_t(y) * width + x] = uint8_t(std::min(sum + 0.5f, 255.f));
      }
  }
  image.width = width;
  image.height = height;
  image.data = std::move(out);
}

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, std::string path, unsigned shortSide)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), shortSide_(shortSide) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::ifstream file(path_, std::ios::binary | std::ios::ate);
    if (!file) return SetError("cannot open file");
    const std::streamoff size = file.tellg();
    if (size < 0) return SetError("cannot read file");
    // The SOI marker first: any other file is left unread, for the caller's general decoder to read once.
    unsigned char soi[3] = {0, 0, 0};
    file.seekg(0);
    if (size < 3 || !file.read(reinterpret_cast<char*>(soi), 3) || soi[0] != 0xFF || soi[1] != 0xD8 || soi[2] != 0xFF) return;
    isJpeg_ = true;
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    file.seekg(0);
    if (!file.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()))) return SetError("cannot read file");
    std::vector<uint8_t> rows;
    int width, height, components;
    J_COLOR_SPACE space;
    std::string error = decodeRows(bytes, shortSide_, JCS_UNKNOWN, rows, width, height, components, space);
    if (error.empty() && !toPlanes(rows, width, height, components, space, decoded_)) {
      error = decodeRows(bytes, shortSide_, JCS_RGB, rows, width, height, components, space);
      if (error.empty()) toPlanes(rows, width, height, components, space, decoded_);
    }
    if (!error.empty()) return SetError(error);
    shrinkTo(decoded_, shortSide_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!isJpeg_) return deferred_.Resolve(env.Null());
    Napi::Object result = Napi::Object::New(env);
    result.Set("width", decoded_.width);
    result.Set("height", decoded_.height);
    result.Set("channels", decoded_.channels);
    auto buffer = Napi::ArrayBuffer::New(env, decoded_.data.size());
    std::copy(decoded_.data.begin(), decoded_.data.end(), static_cast<uint8_t*>(buffer.Data()));
    result.Set("data", Napi::Uint8Array::New(env, decoded_.data.size(), buffer, 0));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  unsigned shortSide_;
  bool isJpeg_ = false;
  Decoded decoded_;
};

Napi::Value decodeJpeg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "decodeJpeg(path: string, shortSide: number)");
  const double shortSide = info[1].As<Napi::Number>().DoubleValue();
  if (!(shortSide >= 1)) throw Napi::RangeError::New(env, "shortSide must be at least 1");
  auto* worker = new DecodeWorker(env, info[0].As<Napi::String>().Utf8Value(), unsigned(shortSide));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeJpeg", Napi::Function::New(env, decodeJpeg, "decodeJpeg"));
  return exports;
}

}  // namespace

NODE_API_MODULE(findstroke_jpeg, Init)
