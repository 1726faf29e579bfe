# Video stay-down (issue 17): the hash-only report fingerprints videos on the device.
video-report-hint = You can also choose a video (MP4 or WebM, whatever this browser can play). Your device plays it silently, takes one picture per second and sends only their fingerprints; the video itself is never sent.
video-report-frames = Video: { $count } fingerprinted pictures
video-report-working = Fingerprinting the video { $name }…
