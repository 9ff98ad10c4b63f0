## بوابة المريض، العربية. يجب أن توجد كل رسالة هنا في en/ و hi/ أيضًا.

portal-title = بوابة المريض
lang-switch = اللغة
lang-save = تغيير اللغة
date-long = { $day } { $month } { $year }
month-1 = يناير
month-2 = فبراير
month-3 = مارس
month-4 = أبريل
month-5 = مايو
month-6 = يونيو
month-7 = يوليو
month-8 = أغسطس
month-9 = سبتمبر
month-10 = أكتوبر
month-11 = نوفمبر
month-12 = ديسمبر

## تسجيل الدخول
sign-in-heading = تسجيل الدخول إلى بوابة المريض
sign-in-intro = استخدم رقم المريض المكتوب على القسيمة التي أعطتك إياها العيادة، وكلمة المرور الخاصة بك.
patient-number = رقم المريض
password-label = كلمة المرور
sign-in = تسجيل الدخول
sign-out = تسجيل الخروج
first-time = هل هذه زيارتك الأولى؟ فعّل حسابك باستخدام الرمز المؤقت الذي أعطتك إياه العيادة.
activate-heading = تفعيل حسابك في البوابة
activate-intro = أدخل رقم المريض والرمز المؤقت من العيادة، ثم اختر كلمة مرور لا تقل عن ١٢ حرفًا.
one-time-code = الرمز المؤقت
new-password = كلمة المرور الجديدة
repeat-password = أعد كتابة كلمة المرور
activate-button = حفظ كلمة المرور والدخول
have-password = هل فعّلت حسابك من قبل؟ سجّل الدخول بكلمة المرور.
error-sign-in = رقم المريض أو كلمة المرور غير صحيح. راجع القسيمة التي أعطتك إياها العيادة وحاول مرة أخرى.
error-code = هذا الرمز غير صحيح أو استُخدم من قبل أو انتهت صلاحيته. اطلب رمزًا جديدًا من العيادة.
error-password-short = اختر كلمة مرور لا تقل عن ١٢ حرفًا.
error-refused = تعذّر تنفيذ ذلك. ارجع إلى صفحتك وحاول مرة أخرى.
error-internal = حدث خطأ من جهتنا ولم يتغير شيء. إذا تكرر ذلك، أعطِ عيادتك هذا الرقم المرجعي: { $reference }
error-password-weak = كلمة المرور هذه سهلة التخمين (كلمة شائعة أو نمط أو تاريخ أو اسمك). استخدم ثلاث أو أربع كلمات لا رابط بينها.
error-password-long = استخدم 200 حرف على الأكثر لكلمة المرور.
error-password-mismatch = كلمتا المرور غير متطابقتين. اكتبهما مرة أخرى.
error-throttled = محاولات كثيرة جدًا. انتظر بضع دقائق ثم حاول مرة أخرى.
error-form-expired = انتهت صلاحية هذا النموذج. أعد تحميل الصفحة وحاول مرة أخرى.
error-not-found = هذه الصفحة غير موجودة أو ليست جزءًا من سجلك.
error-unavailable = لا يمكن الوصول إلى البوابة الآن. حاول مرة أخرى بعد بضع دقائق.

## الصفحة الرئيسية
welcome-name = مرحبًا، { $name }
home-intro = هنا ترى خطة علاجك، وما هو معروف عنها، وموافقتك، وسجل خلاياك، والاستبيانات المطلوبة منك.
plans-none = لم تسجل العيادة خطة علاج لك بعد.
plan-heading = خطة علاجك
plan-condition = الحالة
plan-product = العلاج
plan-route = طريقة الإعطاء
plan-sessions = عدد الجلسات
plan-cost = التكلفة المعروضة
plan-status = الحالة الآن
plan-status-active = مستمرة
plan-status-blocked = أوقفها فحص الأدلة
plan-status-completed = مكتملة
plan-status-stopped = متوقفة

## أنواع المنتجات
product-autologous-adipose = خلايا مأخوذة من دهونك أنت
product-autologous-bone-marrow = خلايا مأخوذة من نخاع عظمك أنت
product-cord-blood-hpc = دم حبل سري من متبرع (خلايا مكوّنة للدم)
product-allogeneic-msc = خلايا لحمية («وسيطة») من متبرع
product-embryonic-derived = خلايا مشتقة من خلايا جذعية جنينية
product-msc-exosome = إكسوسومات (جسيمات تفرزها الخلايا اللحمية)
product-prp = بلازما غنية بالصفائح من دمك أنت

## الأدلة
evidence-heading = ما هو معروف عن هذا العلاج
evidence-status-approved = معتمد
evidence-status-investigational = قيد البحث
evidence-status-unproven = غير مثبت
evidence-status-research-only = للبحث فقط
evidence-meaning-approved = اعتمدت جهة رقابية على الأدوية هذا المنتج لهذه الحالة بعد مراجعة أدلة على أنه يفيد وأنه آمن بدرجة كافية.
evidence-meaning-investigational = يُختبر هذا العلاج في تجربة سريرية مسجلة. هو غير معتمد، ولا أحد يعرف بعد إن كان يفيد.
evidence-meaning-unproven = لا يوجد دليل موثوق على أن هذا العلاج يفيد في هذه الحالة، ولم تعتمده أي جهة رقابية. قد تدفع ثمنه دون أن تستفيد، وله مخاطر.
evidence-meaning-research-only = لا يجوز استخدام هذا المنتج إلا ضمن دراسة بحثية، ولا يجوز تقديمه كعلاج.
evidence-summary = ملخص الأدلة (بالإنجليزية، من ملف الأدلة، الإصدار { $version })
evidence-sources = المصادر
evidence-trial = التجربة السريرية { $trial }
unproven-warning = قبل أن تقرر: قصص المشاهير والإعلانات ليست دليلًا. اطلب من العيادة نتائج منشورة لأشخاص لديهم حالتك نفسها، واسأل ماذا يحدث إن لم ينجح العلاج، وخذ وقتك في القرار. يحق لك أن ترفض.
warning-acknowledged = وقّعت بأنك قرأت هذا التحذير في { $date }.

## العيادة
clinic-heading = عيادتك
clinic-accreditations = الاعتمادات
clinic-no-accreditations = لا يوجد اعتماد مسجل لهذه العيادة.

## الموافقة
consent-heading = موافقتك
consent-none = لم توقّع على موافقة لهذه الخطة بعد.
consent-signed = وقّعت على موافقتك في { $date }.
consent-withdrawn = سحبت موافقتك في { $date }. لن يُجرى أي شيء آخر ضمن هذه الخطة.
consent-read = اقرأ وثيقة موافقتك
withdraw-heading = سحب موافقتك
withdraw-intro = يحق لك سحب موافقتك في أي وقت دون ذكر سبب. لن تُستخدم خلاياك ولن يُعطى أي علاج آخر ضمن هذه الخطة. لن تتغير رعايتك الأخرى.
withdraw-reason = السبب (اختياري)
withdraw-confirm = أريد سحب موافقتي على هذه الخطة.
withdraw-button = سحب الموافقة
withdraw-must-confirm = ضع علامة في المربع لتأكيد رغبتك في سحب الموافقة.
withdraw-done = سُحبت موافقتك. تظهر هذه المعلومة الآن للعيادة في سجلك.

## قصة المنتج
story-heading = قصة خلاياك
story-none = لم تُجمع أو تُخصص خلايا لهذه الخطة بعد.
story-unit = الوحدة { $din } ({ $product })
step-isolation = عزل الخلايا
step-expansion = تنمية الخلايا في المزرعة
step-harvest = حصاد الخلايا
step-cryopreservation = التجميد للحفظ
step-thaw = إذابة التجميد
step-exosome-isolation = عزل الإكسوسومات
step-prp-preparation = تحضير البلازما الغنية بالصفائح
step-division = التقسيم إلى جرعات
story-collected = جُمعت في { $site }
story-processed = عولجت في { $site }: { $step }
story-tested = فُحصت: { $test }، { $result }
story-test-pass = ضمن المواصفات
story-test-fail = خارج المواصفات
story-released = أجازها قسم ضمان الجودة
story-exceptional = أُجيزت استثنائيًا بتوقيع ضمان الجودة وطبيب
story-shipped = أُرسلت من { $from } إلى { $to }
story-received = استُلمت في { $site }
story-stored = حُفظت في { $site }
story-allocated = خُصصت لخطتك
story-administered = أُعطيت لك
story-discarded = أُتلفت

## الاستبيانات
questionnaires-heading = الاستبيانات
questionnaires-none = لا يوجد استبيان مطلوب منك الآن.
questionnaire-due = يرجى الإجابة قبل { $date }
questionnaire-answer = أجب الآن
questionnaire-done = تمت الإجابة، شكرًا لك
questionnaire-upcoming = يُفتح في { $date }
questionnaire-missed = فات موعده
instrument-nprs = درجة الألم (من ٠ إلى ١٠)
instrument-koos = استبيان الركبة (KOOS)
instrument-pgic = إلى أي حد تغيرت حالتك؟
questionnaire-intro = أجب عن كل سؤال بحسب حالتك الآن. لا توجد إجابات صحيحة أو خاطئة.
questionnaire-closed = هذا الاستبيان غير مفتوح الآن. راجع التواريخ في بوابتك.
questionnaire-overdue = متأخر: يرجى الإجابة قبل { $date }
questionnaire-submit = إرسال إجاباتي
questionnaire-saved = شكرًا لك. حُفظت إجاباتك في سجلك.
questionnaire-incomplete = يرجى الإجابة عن كل الأسئلة قبل الإرسال.
time-point-baseline = قبل العلاج
time-point-1m = بعد شهر من العلاج
time-point-3m = بعد ٣ أشهر من العلاج
time-point-6m = بعد ٦ أشهر من العلاج
time-point-12m = بعد ١٢ شهرًا من العلاج

## بياناتك
data-heading = بياناتك
data-intro = يمكنك تنزيل كل ما يحفظه celltrace عنك في ملف واحد.
data-download = تنزيل بياناتي (JSON)
footer-record = كل صفحة تفتحها هنا تُسجل في سجل التدقيق الخاص بملفك.
