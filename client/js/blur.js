// Background blur: person segmentation by MediaPipe's selfie model, run in this page.
// The runtime and model are served by the relay from /vendor/selfie_segmentation/ and loaded
// only when someone switches blur on.
//
// Two loops: every camera frame is drawn at once with the latest person mask, and the mask is
// renewed as fast as the device manages. On a slow device the mask lags a little behind
// movement, but the video never freezes.

// The background is blurred by drawing it small, softening it there, and scaling it back up:
// a tenth of the cost of a full-size blur filter.
const BACKGROUND_SCALE = 8;
const SMALL_BLUR_PX = 2;
const EDGE_SOFTNESS_PX = 3;
// A mask rate below this means a slow device: the user is told, and segmentation is paced so
// that it leaves two thirds of the time to drawing.
const SLOW_MASK_FPS = 15;
// Safari before 18 has no canvas `filter`: there the background takes one more, smaller
// step, since scaling down and up again with smoothing blurs about as much.
const CANVAS_FILTER = "filter" in CanvasRenderingContext2D.prototype;
const NO_FILTER_EXTRA_SCALE = 3;

let runtimeLoading = null;

function loadRuntime(base) {
  if (!runtimeLoading) {
    runtimeLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = base + "selfie_segmentation.js";
      script.onload = () => resolve();
      script.onerror = () => {
        runtimeLoading = null;
        reject(new Error("blur runtime did not load"));
      };
      document.head.appendChild(script);
    });
  }
  return runtimeLoading;
}

class Rate {
  constructor() {
    this.count = 0;
    this.busyMs = 0;
    this.since = performance.now();
    this.perSecond = 0;
    this.msEach = 0;
  }
  add(busyMs) {
    const now = performance.now();
    this.count += 1;
    this.busyMs += busyMs;
    if (now - this.since >= 1000) {
      this.perSecond = (this.count * 1000) / (now - this.since);
      this.msEach = this.busyMs / this.count;
      this.count = 0;
      this.busyMs = 0;
      this.since = now;
    }
  }
}

// Returns a processor: `.track` is the blurred video track; `.stats()` gives
// `{fps, maskFps, msPerFrame, msPerMask, slow}`; `.stop()` ends it (the input track is left
// running, it belongs to the caller).
export async function startBlur(inputTrack, base) {
  await loadRuntime(base);
  const segmenter = new window.SelfieSegmentation({ locateFile: (file) => base + file });
  segmenter.setOptions({ modelSelection: 1, selfieMode: false });

  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([inputTrack]);
  await video.play();

  const settings = inputTrack.getSettings();
  const width = settings.width || video.videoWidth || 640;
  const height = settings.height || video.videoHeight || 360;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const background = document.createElement("canvas");
  background.width = Math.max(1, Math.round(width / BACKGROUND_SCALE));
  background.height = Math.max(1, Math.round(height / BACKGROUND_SCALE));
  const backgroundContext = background.getContext("2d");
  backgroundContext.filter = `blur(${SMALL_BLUR_PX}px)`;
  let tiny = null;
  if (!CANVAS_FILTER) {
    tiny = document.createElement("canvas");
    tiny.width = Math.max(1, Math.round(background.width / NO_FILTER_EXTRA_SCALE));
    tiny.height = Math.max(1, Math.round(background.height / NO_FILTER_EXTRA_SCALE));
  }
  const tinyContext = tiny && tiny.getContext("2d");
  const mask = document.createElement("canvas");
  mask.width = width;
  mask.height = height;
  const maskContext = mask.getContext("2d");

  let running = true;
  let haveMask = false;
  let slow = false;
  const frames = new Rate();
  const masks = new Rate();

  segmenter.onResults((results) => {
    maskContext.clearRect(0, 0, width, height);
    maskContext.filter = `blur(${EDGE_SOFTNESS_PX}px)`;
    maskContext.drawImage(results.segmentationMask, 0, 0, width, height);
    haveMask = true;
  });
  await segmenter.initialize();

  const draw = () => {
    if (!running) return;
    const started = performance.now();
    context.save();
    context.globalCompositeOperation = "source-over";
    if (haveMask) {
      context.clearRect(0, 0, width, height);
      context.drawImage(mask, 0, 0);
      context.globalCompositeOperation = "source-in";
      context.drawImage(video, 0, 0, width, height);
      context.globalCompositeOperation = "destination-over";
    }
    // Until the first mask arrives everything is blurred: nothing of the room shows early.
    if (tiny) {
      tinyContext.drawImage(video, 0, 0, tiny.width, tiny.height);
      backgroundContext.imageSmoothingQuality = "high";
      backgroundContext.drawImage(tiny, 0, 0, background.width, background.height);
    } else {
      backgroundContext.drawImage(video, 0, 0, background.width, background.height);
    }
    context.imageSmoothingQuality = "high";
    context.drawImage(background, 0, 0, width, height);
    context.restore();
    frames.add(performance.now() - started);
    nextFrame(draw);
  };
  const nextFrame = (callback) => {
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(callback);
    else setTimeout(callback, 1000 / 30);
  };

  const segment = async () => {
    while (running) {
      const started = performance.now();
      try {
        await segmenter.send({ image: video });
      } catch (error) {
        console.warn("blur: mask skipped", error);
      }
      const busy = performance.now() - started;
      masks.add(busy);
      slow = masks.perSecond > 0 && masks.perSecond < SLOW_MASK_FPS;
      // Yield to drawing: on a slow device, rest twice as long as the mask took.
      await new Promise((resolve) => setTimeout(resolve, slow ? 2 * busy : 0));
    }
  };

  nextFrame(draw);
  segment();

  const track = canvas.captureStream(30).getVideoTracks()[0];
  return {
    track,
    stats: () => ({
      fps: frames.perSecond,
      maskFps: masks.perSecond,
      msPerFrame: frames.msEach,
      msPerMask: masks.msEach,
      slow,
    }),
    stop: () => {
      running = false;
      track.stop();
      video.srcObject = null;
      segmenter.close();
    },
  };
}
