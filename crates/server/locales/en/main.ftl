# Layout, navigation, home page and error pages (English).
layout-skip = Skip to the content
layout-language = Language
layout-nav = Main
layout-danger = In immediate danger? Call 112.
nav-report = Report content
nav-report-hashes = Report with fingerprints only
nav-help = Help and support
nav-policy = How we moderate
nav-privacy = Privacy

home-title = Report intimate images shared without consent
home-intro = Here you can ask { $service } to remove intimate images or deepfakes of you that were put online without your consent, and follow what happens to your report.
home-private = You can also report with fingerprints only: your photos are fingerprinted on your own device and never sent.

support-title = You do not have to do this alone
support-intro = Talking to someone can help. Free and confidential support is available, also in the middle of the night.
support-more = Where to find help

error-code = Error code { $status }
error-home = Go to the home page
error-400-title = Something in the request was not right
error-400-text = The page could not handle what was sent. Go back and try again.
error-403-title = Not allowed
error-403-text = You do not have permission to do this.
error-404-title = Page not found
error-404-text = This page does not exist, or the link is incomplete. Check the address, or start again from the home page.
error-405-title = This page cannot be used this way
error-405-text = The link or form you used does not work with this page. Open the page from the home page instead.
error-409-title = This is already being sent
error-409-text = What you sent is still being handled. Wait a moment, then open the page again: nothing you sent is lost.
error-413-title = Too much data
error-413-text = What you sent is too large. Send less at once.
error-429-title = Too many requests
error-429-text = You have sent a lot in a short time. Wait a minute, then try again. What you typed is not lost if you go back.
error-500-title = Something went wrong on our side
error-500-text = This is not your fault. Please try again in a few minutes.

## Month names for dates people read ("30 November 2026, 09:28").
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
