# Video stay-down (issue 17): de melding met alleen vingerafdrukken maakt die van video's op het apparaat.
video-report-hint = U kunt ook een video kiezen (MP4 of WebM, wat deze browser kan afspelen). Uw apparaat speelt hem zonder geluid af, neemt één beeld per seconde en verstuurt alleen de vingerafdrukken daarvan; de video zelf wordt nooit verstuurd.
video-report-frames = Video: { $count } beelden met vingerafdruk
video-report-working = De video { $name } krijgt een vingerafdruk…
