## Patient portal, English. Every message here must exist in ar/ and hi/ too.

portal-title = Patient portal
lang-switch = Language
lang-save = Change language
date-long = { $day } { $month } { $year }
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

## Signing in
sign-in-heading = Sign in to your patient portal
sign-in-intro = Use the patient number on the slip your clinic gave you, and your password.
patient-number = Patient number
password-label = Password
sign-in = Sign in
sign-out = Sign out
first-time = First time here? Set up your access with the one-time code from your clinic.
activate-heading = Set up your portal access
activate-intro = Enter your patient number and the one-time code from your clinic, then choose a password of at least 12 characters.
one-time-code = One-time code
new-password = New password
repeat-password = Repeat the password
activate-button = Set password and sign in
have-password = Already set up? Sign in with your password.
error-sign-in = The patient number or password is not right. Check the slip from your clinic and try again.
error-code = This code is not right, was already used, or has expired. Ask your clinic for a new one.
error-password-short = Use at least 12 characters for your password.
error-refused = This could not be done. Go back to your page and try again.
error-internal = Something went wrong on our side; nothing was changed. If it happens again, give your clinic this reference: { $reference }
error-password-weak = This password is easy to guess (a common word, a pattern, a date or your own name). Use three or four unrelated words.
error-password-long = Use at most 200 characters for your password.
error-password-mismatch = The two passwords are not the same. Type them again.
error-throttled = Too many attempts. Wait a few minutes, then try again.
error-form-expired = This form has expired. Reload the page and try again.
error-not-found = This page does not exist, or it is not part of your record.
error-unavailable = The portal cannot be reached right now. Try again in a few minutes.

## Home
welcome-name = Welcome, { $name }
home-intro = Here you can see your treatment plan, what is known about it, your consent, the record of your cells and your questionnaires.
plans-none = Your clinic has not recorded a treatment plan for you yet.
plan-heading = Your treatment plan
plan-condition = Condition
plan-product = Treatment
plan-route = How it is given
plan-sessions = Sessions
plan-cost = Quoted cost
plan-status = Status
plan-status-active = Going ahead
plan-status-blocked = Stopped by the evidence check
plan-status-completed = Completed
plan-status-stopped = Stopped

## Product types
product-autologous-adipose = Your own fat-derived cells
product-autologous-bone-marrow = Your own bone-marrow cells
product-cord-blood-hpc = Donated umbilical cord blood (blood-forming cells)
product-allogeneic-msc = Donor stromal ("mesenchymal") cells
product-embryonic-derived = Cells derived from embryonic stem cells
product-msc-exosome = Exosomes (particles released by stromal cells)
product-prp = Platelet-rich plasma from your own blood

## Evidence
evidence-heading = What is known about this treatment
evidence-status-approved = Approved
evidence-status-investigational = Investigational
evidence-status-unproven = Unproven
evidence-status-research-only = Research only
evidence-meaning-approved = A medicines regulator has approved this product for this condition after reviewing evidence that it works and is safe enough.
evidence-meaning-investigational = This treatment is being tested in a registered clinical trial. It is not approved, and nobody knows yet whether it works.
evidence-meaning-unproven = There is no reliable evidence that this treatment works for this condition, and no regulator has approved it. You may pay for it and get no benefit, and it carries risks.
evidence-meaning-research-only = This product may only be used inside a research study. It must not be offered as a treatment.
evidence-summary = Summary of the evidence (in English, evidence file version { $version })
evidence-sources = Sources
evidence-trial = Clinical trial { $trial }
unproven-warning = Before you decide: celebrity stories and advertisements are not evidence. Ask the clinic for published results in people with your condition, ask what happens if it does not work, and take time to decide. You can say no.
warning-acknowledged = You signed that you read this warning on { $date }.

## Clinic
clinic-heading = Your clinic
clinic-accreditations = Accreditations
clinic-no-accreditations = No accreditation is recorded for this clinic.

## Consent
consent-heading = Your consent
consent-none = You have not signed a consent for this plan yet.
consent-signed = You signed your consent on { $date }.
consent-withdrawn = You withdrew your consent on { $date }. Nothing more will be done under this plan.
consent-read = Read your consent document
withdraw-heading = Withdraw your consent
withdraw-intro = You may withdraw at any time, without giving a reason. Your cells will not be used and no further treatment will be given under this plan. Your other care does not change.
withdraw-reason = Reason (optional)
withdraw-confirm = I want to withdraw my consent for this plan.
withdraw-button = Withdraw consent
withdraw-must-confirm = Tick the box to confirm that you want to withdraw.
withdraw-done = Your consent is withdrawn. The clinic sees this in your record now.

## Product story
story-heading = The story of your cells
story-none = No cells have been collected or assigned for this plan yet.
story-unit = Unit { $din } ({ $product })
step-isolation = cell isolation
step-expansion = growing the cells in culture
step-harvest = harvesting the cells
step-cryopreservation = freezing for storage
step-thaw = thawing
step-exosome-isolation = exosome isolation
step-prp-preparation = preparing platelet-rich plasma
step-division = dividing into doses
story-collected = Collected at { $site }
story-processed = Processed at { $site }: { $step }
story-tested = Tested: { $test }, { $result }
story-test-pass = within specification
story-test-fail = outside specification
story-released = Released by quality assurance
story-exceptional = Released as an exception, signed by quality assurance and a physician
story-shipped = Sent from { $from } to { $to }
story-received = Received at { $site }
story-stored = Stored at { $site }
story-allocated = Set aside for your plan
story-administered = Given to you
story-discarded = Discarded

## Questionnaires
questionnaires-heading = Questionnaires
questionnaires-none = There is no questionnaire for you at the moment.
questionnaire-due = Please answer by { $date }
questionnaire-answer = Answer now
questionnaire-done = Answered, thank you
questionnaire-upcoming = Opens on { $date }
questionnaire-missed = Missed
instrument-nprs = Pain score (0 to 10)
instrument-koos = Knee questionnaire (KOOS)
instrument-pgic = How much has your condition changed?
questionnaire-intro = Answer each question about how you are now. There are no right or wrong answers.
questionnaire-closed = This questionnaire is not open now. Check the dates on your portal.
questionnaire-overdue = Overdue: please answer by { $date }
questionnaire-submit = Send my answers
questionnaire-saved = Thank you. Your answers are saved in your record.
questionnaire-incomplete = Please answer every question before sending.
time-point-baseline = Before treatment
time-point-1m = 1 month after treatment
time-point-3m = 3 months after treatment
time-point-6m = 6 months after treatment
time-point-12m = 12 months after treatment

## Your data
data-heading = Your data
data-intro = You can download everything celltrace holds about you as one file.
data-download = Download my data (JSON)
footer-record = Each page you open here is recorded in the audit trail of your record.
