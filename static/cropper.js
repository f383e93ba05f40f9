// Cameo photo cropper: progressive enhancement of the upload form (#upload-form).
//
// Without this script the server keeps the centred square of an upload. With it, choosing a
// file shows the photo with a square selection that can be dragged, resized from its corner
// or moved with the keyboard; the square is written to the hidden crop_x, crop_y and
// crop_size fields in the photo's own pixels (after EXIF orientation, as the server sees it).
//
// It also checks a file the moment it is chosen (HEIC and non-images get a message at once, a
// photo under 128 pixels a warning), takes a photo dropped on the form or pasted from the
// clipboard, shows round and square previews, and before upload scales a crop larger than the
// server keeps (2048 pixels) or a file over the size limit down in the browser, so a
// 50-megapixel phone photo goes up as a small JPEG. With `data-source` on the form it crops
// an image at that URL instead (the stored photo, cropped again).
//
// Events on the form, for tests and other scripts:
//   cropper:ready  (dispatched) a photo is loaded; detail {width, height, x, y, size}
//   cropper:error  (dispatched) the chosen file could not be shown as an image
//   cropper:set    (listened)   CustomEvent with detail {x, y, size} in natural pixels;
//                               sets the selection, clamped inside the photo
(() => {
  'use strict';

  const PREVIEW_SIZES = [32, 80, 128];
  // The round preview: how most sites show an avatar.
  const ROUND_SIZE = 128;
  // The largest side the server keeps; a larger crop is scaled down before upload.
  const MAX_SIDE = 2048;
  const SMALL_SIDE = 128;
  const ACCEPTED = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
  const LABEL = 'Crop area: use arrow keys to move, + and - to resize';
  const HELP =
    'Drag the square to choose the part of the photo to keep, drag its bottom-right corner ' +
    'to resize it, or click the photo to centre the square there. With the keyboard, tab to ' +
    'the square, then use the arrow keys to move it and + or - to resize it; hold Shift for ' +
    'bigger steps. Without a choice, the centre of the photo is kept.';

  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

  function start() {
    const form = document.getElementById('upload-form');
    const input = document.getElementById('photo-file');
    const fieldX = document.getElementById('crop-x');
    const fieldY = document.getElementById('crop-y');
    const fieldSize = document.getElementById('crop-size');
    const cropper = document.getElementById('cropper');
    if (!form || !fieldX || !fieldY || !fieldSize || !cropper || !(input || form.dataset.source)) {
      return;
    }
    const previews = document.getElementById('crop-previews');
    const help = document.getElementById('crop-help');
    const message = document.getElementById('file-message');
    const dropZone = document.getElementById('drop-zone');
    const source = form.dataset.source || '';
    const maxBytes = Number(form.dataset.maxBytes) || Infinity;

    // The current photo, or null: {url, img, box, status, canvases, width, height, x, y, size}.
    let photo = null;
    // Bumped on every new choice so that a slow load of an earlier file is ignored.
    let generation = 0;
    let drag = null;
    let frame = 0;
    let announceTimer = 0;

    function setFields(x, y, size) {
      fieldX.value = x;
      fieldY.value = y;
      fieldSize.value = size;
    }

    // Says something about the chosen file beside the file field (`kind`: error or warning).
    function say(text, kind) {
      if (!message) {
        return;
      }
      message.textContent = text || '';
      message.hidden = !text;
      message.className = kind === 'warning' ? 'field-warning' : 'field-error';
      if (input) {
        if (text && kind !== 'warning') {
          input.setAttribute('aria-invalid', 'true');
        } else {
          input.removeAttribute('aria-invalid');
        }
      }
    }

    // Why a chosen file cannot be used, before it is even read; '' when it may be.
    function refusal(file) {
      const name = (file.name || '').toLowerCase();
      if (/\.(heic|heif)$/.test(name) || /^image\/hei[cf]/.test(file.type)) {
        return 'HEIC photos (the iPhone\'s own format) are not accepted here. Choose a JPEG ' +
          'instead: on the iPhone, share the photo and pick "Save as JPEG", or set Settings › ' +
          'Camera › Formats to "Most Compatible".';
      }
      if (file.type && !ACCEPTED.includes(file.type)) {
        return file.type.startsWith('image/')
          ? `${file.type.slice(6).toUpperCase()} images are not accepted: choose a PNG, JPEG, GIF or WebP photo.`
          : 'That file is not an image: choose a PNG, JPEG, GIF or WebP photo.';
      }
      return '';
    }

    function clear() {
      generation += 1;
      drag = null;
      if (frame) {
        cancelAnimationFrame(frame);
        frame = 0;
      }
      clearTimeout(announceTimer);
      if (photo) {
        URL.revokeObjectURL(photo.url);
        photo = null;
      }
      cropper.hidden = true;
      cropper.replaceChildren();
      if (previews) {
        previews.hidden = true;
        previews.replaceChildren();
      }
      if (help) {
        help.hidden = true;
      }
      say('');
      setFields('', '', '');
    }

    // Puts the square at (x, y) with side `size`, in natural pixels, clamped inside the photo.
    function select(x, y, size) {
      if (!photo) {
        return;
      }
      const side = clamp(Math.round(size), 1, Math.min(photo.width, photo.height));
      photo.size = side;
      photo.x = clamp(Math.round(x), 0, photo.width - side);
      photo.y = clamp(Math.round(y), 0, photo.height - side);
      setFields(photo.x, photo.y, photo.size);
      render();
    }

    function render() {
      const { box, width, height, x, y, size } = photo;
      box.style.left = `${(x / width) * 100}%`;
      box.style.top = `${(y / height) * 100}%`;
      box.style.width = `${(size / width) * 100}%`;
      box.style.height = `${(size / height) * 100}%`;
      if (!frame) {
        frame = requestAnimationFrame(drawPreviews);
      }
    }

    function drawPreviews() {
      frame = 0;
      if (!photo) {
        return;
      }
      const { img, x, y, size } = photo;
      for (const canvas of photo.canvases) {
        const context = canvas.getContext('2d');
        if (!context) {
          continue;
        }
        context.imageSmoothingEnabled = true;
        context.imageSmoothingQuality = 'high';
        context.clearRect(0, 0, canvas.width, canvas.height);
        try {
          context.drawImage(img, x, y, size, size, 0, 0, canvas.width, canvas.height);
        } catch (error) {
          // A picture the browser shows but cannot draw: the previews stay empty.
        }
      }
    }

    function describe() {
      const { width, height, x, y, size } = photo;
      return `Square of ${size} by ${size} pixels, ${x} from the left and ${y} from the top ` +
        `of a ${width} by ${height} photo.`;
    }

    // Updates the live region once the selection has stopped changing for a moment.
    function announce() {
      clearTimeout(announceTimer);
      announceTimer = setTimeout(() => {
        if (photo) {
          photo.status.textContent = describe();
        }
      }, 300);
    }

    // The natural pixels per CSS pixel of the photo as shown.
    function scale() {
      const shown = photo.img.getBoundingClientRect().width;
      return shown > 0 ? photo.width / shown : 1;
    }

    function pointerPosition(event) {
      const rect = photo.img.getBoundingClientRect();
      const factor = scale();
      return {
        x: (event.clientX - rect.left) * factor,
        y: (event.clientY - rect.top) * factor,
      };
    }

    function beginDrag(event, mode) {
      if (!photo || (event.pointerType === 'mouse' && event.button !== 0)) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      if (mode === 'jump') {
        // A press on the photo outside the square centres the square there, then drags it.
        const at = pointerPosition(event);
        select(at.x - photo.size / 2, at.y - photo.size / 2, photo.size);
        mode = 'move';
      }
      drag = {
        mode,
        pointer: event.pointerId,
        startX: event.clientX,
        startY: event.clientY,
        x: photo.x,
        y: photo.y,
        size: photo.size,
        factor: scale(),
      };
      try {
        photo.box.setPointerCapture(event.pointerId);
      } catch (error) {
        // Capture is a convenience: moves over the square still work without it.
      }
      photo.box.focus({ preventScroll: true });
    }

    function moveDrag(event) {
      if (!photo || !drag || event.pointerId !== drag.pointer) {
        return;
      }
      event.preventDefault();
      const dx = (event.clientX - drag.startX) * drag.factor;
      const dy = (event.clientY - drag.startY) * drag.factor;
      if (drag.mode === 'move') {
        select(drag.x + dx, drag.y + dy, drag.size);
      } else {
        // The top-left corner stays; the side follows the larger of the two movements.
        const delta = Math.abs(dx) >= Math.abs(dy) ? dx : dy;
        const limit = Math.min(photo.width - drag.x, photo.height - drag.y);
        select(drag.x, drag.y, clamp(drag.size + delta, 1, limit));
      }
    }

    function endDrag(event) {
      if (!drag || event.pointerId !== drag.pointer) {
        return;
      }
      drag = null;
      if (photo) {
        announce();
      }
    }

    function onKey(event) {
      if (!photo || event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      const { width, height, x, y, size } = photo;
      const fraction = event.shiftKey ? 0.1 : 0.01;
      const stepX = Math.max(1, Math.round(width * fraction));
      const stepY = Math.max(1, Math.round(height * fraction));
      const stepSize = Math.max(1, Math.round(Math.min(width, height) * fraction));
      let next = null;
      switch (event.key) {
        case 'ArrowLeft':
          next = [x - stepX, y, size];
          break;
        case 'ArrowRight':
          next = [x + stepX, y, size];
          break;
        case 'ArrowUp':
          next = [x, y - stepY, size];
          break;
        case 'ArrowDown':
          next = [x, y + stepY, size];
          break;
        case '+':
        case '=':
        case 'Add': {
          const grown = Math.min(size + stepSize, width, height);
          const half = (grown - size) / 2;
          next = [x - half, y - half, grown];
          break;
        }
        case '-':
        case '_':
        case 'Subtract': {
          const shrunk = Math.max(size - stepSize, 1);
          const half = (size - shrunk) / 2;
          next = [x + half, y + half, shrunk];
          break;
        }
        default:
          return;
      }
      event.preventDefault();
      select(next[0], next[1], next[2]);
      announce();
    }

    function build(img, url) {
      img.className = 'crop-image';
      img.alt = 'The chosen photo';
      img.draggable = false;

      const box = document.createElement('div');
      box.className = 'crop-box';
      box.tabIndex = 0;
      box.setAttribute('role', 'group');
      box.setAttribute('aria-label', LABEL);
      if (help && help.id) {
        box.setAttribute('aria-describedby', help.id);
      }
      const handle = document.createElement('span');
      handle.className = 'crop-handle';
      handle.setAttribute('aria-hidden', 'true');
      box.append(handle);

      const status = document.createElement('p');
      status.className = 'visually-hidden';
      status.setAttribute('aria-live', 'polite');
      status.setAttribute('aria-atomic', 'true');

      cropper.replaceChildren(img, box, status);

      box.addEventListener('pointerdown', (event) => beginDrag(event, 'move'));
      handle.addEventListener('pointerdown', (event) => beginDrag(event, 'resize'));
      img.addEventListener('pointerdown', (event) => beginDrag(event, 'jump'));
      box.addEventListener('pointermove', moveDrag);
      box.addEventListener('pointerup', endDrag);
      box.addEventListener('pointercancel', endDrag);
      box.addEventListener('lostpointercapture', endDrag);
      box.addEventListener('keydown', onKey);

      const canvases = [];
      if (previews) {
        const ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 3);
        const figures = PREVIEW_SIZES.map((css) => {
          const figure = document.createElement('figure');
          const canvas = document.createElement('canvas');
          const pixels = Math.min(Math.round(css * ratio), 1024);
          canvas.width = pixels;
          canvas.height = pixels;
          canvas.style.width = `${css}px`;
          canvas.className = `crop-preview crop-preview-${css}`;
          canvas.setAttribute('role', 'img');
          canvas.setAttribute('aria-label', `Preview at ${css} pixels`);
          const caption = document.createElement('figcaption');
          caption.textContent = `${css} px`;
          figure.append(canvas, caption);
          canvases.push(canvas);
          return figure;
        });
        const round = document.createElement('figure');
        const roundCanvas = document.createElement('canvas');
        const roundPixels = Math.min(Math.round(ROUND_SIZE * ratio), 1024);
        roundCanvas.width = roundPixels;
        roundCanvas.height = roundPixels;
        roundCanvas.style.width = `${ROUND_SIZE}px`;
        roundCanvas.className = 'crop-preview crop-preview-round';
        roundCanvas.setAttribute('role', 'img');
        roundCanvas.setAttribute('aria-label', 'Preview as a round avatar');
        const roundCaption = document.createElement('figcaption');
        roundCaption.textContent = 'round';
        round.append(roundCanvas, roundCaption);
        canvases.push(roundCanvas);
        figures.push(round);
        previews.replaceChildren(...figures);
      }

      const width = img.naturalWidth;
      const height = img.naturalHeight;
      const size = Math.min(width, height);
      photo = {
        url,
        img,
        box,
        status,
        canvases,
        width,
        height,
        x: Math.floor((width - size) / 2),
        y: Math.floor((height - size) / 2),
        size,
      };

      cropper.hidden = false;
      if (previews) {
        previews.hidden = false;
      }
      if (help) {
        if (!help.textContent.trim()) {
          help.textContent = HELP;
        }
        help.hidden = false;
      }
      select(photo.x, photo.y, photo.size);
      status.textContent = describe();
    }

    function load() {
      clear();
      const file = input && input.files && input.files[0];
      if (!file && !source) {
        return;
      }
      if (file) {
        const problem = refusal(file);
        if (problem) {
          say(problem);
          form.dispatchEvent(new CustomEvent('cropper:error', { bubbles: true }));
          return;
        }
      }
      const current = generation;
      const url = file ? URL.createObjectURL(file) : source;
      const img = new Image();
      img.addEventListener('load', () => {
        if (current !== generation) {
          URL.revokeObjectURL(url);
          return;
        }
        if (!img.naturalWidth || !img.naturalHeight) {
          fail(url);
          return;
        }
        build(img, url);
        const { width, height, x, y, size } = photo;
        if (Math.min(width, height) < SMALL_SIDE) {
          say(`This photo is only ${width}×${height} pixels: it will look blurry where sites ` +
            'show avatars large. You can upload it anyway.', 'warning');
        }
        form.dispatchEvent(new CustomEvent('cropper:ready', {
          bubbles: true,
          detail: { width, height, x, y, size },
        }));
      });
      img.addEventListener('error', () => {
        if (current === generation) {
          fail(url);
        } else {
          URL.revokeObjectURL(url);
        }
      });
      img.src = url;
    }

    function fail(url) {
      URL.revokeObjectURL(url);
      clear();
      say('This file could not be read as an image: it may be damaged, or in a format this ' +
        'browser cannot show. Choose a PNG, JPEG, GIF or WebP photo.');
      form.dispatchEvent(new CustomEvent('cropper:error', { bubbles: true }));
    }

    // Puts `file` in the file field, as if chosen there, and shows it.
    function take(file) {
      if (!input || !file) {
        return;
      }
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      load();
    }

    // Before upload: a crop larger than the server keeps, or a file over the size limit, is
    // drawn at most MAX_SIDE pixels square and sent instead (animated GIFs go as they are).
    function shrinkBeforeUpload(event) {
      const file = input && input.files && input.files[0];
      if (!photo || !file || file.type === 'image/gif') {
        return;
      }
      if (photo.size <= MAX_SIDE && file.size <= maxBytes) {
        return;
      }
      event.preventDefault();
      const side = Math.min(photo.size, MAX_SIDE);
      const canvas = document.createElement('canvas');
      canvas.width = side;
      canvas.height = side;
      const context = canvas.getContext('2d');
      context.imageSmoothingEnabled = true;
      context.imageSmoothingQuality = 'high';
      context.drawImage(photo.img, photo.x, photo.y, photo.size, photo.size, 0, 0, side, side);
      const type = file.type === 'image/jpeg' ? 'image/jpeg' : 'image/png';
      const button = form.querySelector('button[type=submit]');
      if (button) {
        button.disabled = true;
      }
      canvas.toBlob((blob) => {
        if (!blob) {
          if (button) {
            button.disabled = false;
          }
          say('This browser could not scale the photo down; try a smaller one.');
          return;
        }
        const name = file.name.replace(/\.[^.]*$/, '') + (type === 'image/jpeg' ? '.jpg' : '.png');
        const transfer = new DataTransfer();
        transfer.items.add(new File([blob], name, { type }));
        input.files = transfer.files;
        setFields(0, 0, side);
        form.dataset.shrunk = `${side}`;
        form.submit();
      }, type, 0.92);
    }

    if (input) {
      input.addEventListener('change', load);
    }
    form.addEventListener('submit', shrinkBeforeUpload);
    if (input) {
      // A photo dropped anywhere on the page is taken (not opened by the browser instead).
      document.addEventListener('dragover', (event) => {
        event.preventDefault();
        if (dropZone) {
          dropZone.classList.add('dragging');
        }
      });
      document.addEventListener('dragleave', () => dropZone && dropZone.classList.remove('dragging'));
      document.addEventListener('drop', (event) => {
        event.preventDefault();
        if (dropZone) {
          dropZone.classList.remove('dragging');
        }
        const files = event.dataTransfer && event.dataTransfer.files;
        if (files && files.length > 0) {
          take(files[0]);
        }
      });
    }
    if (input) {
      document.addEventListener('paste', (event) => {
        const items = event.clipboardData ? [...event.clipboardData.items] : [];
        const item = items.find((entry) => entry.kind === 'file');
        const file = item && item.getAsFile();
        if (file) {
          event.preventDefault();
          take(file);
        }
      });
    }
    form.addEventListener('reset', () => {
      // The inputs are emptied after the event; clear our state to match.
      setTimeout(clear, 0);
    });
    form.addEventListener('cropper:set', (event) => {
      const detail = event.detail;
      if (!photo || !detail || typeof detail !== 'object') {
        return;
      }
      const number = (value, fallback) => {
        const parsed = Number(value);
        return Number.isFinite(parsed) ? parsed : fallback;
      };
      select(
        number(detail.x, photo.x),
        number(detail.y, photo.y),
        number(detail.size, photo.size),
      );
      announce();
    });

    // A page restored from history may keep the chosen file: show it again.
    if (source || (input && input.files && input.files.length > 0)) {
      load();
    } else {
      setFields('', '', '');
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
  } else {
    start();
  }
})();
